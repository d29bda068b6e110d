import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { eventually } from '../../test/helpers/eventually';
import { SqliteCheckpointer } from './sqlite-checkpointer';

describe('SqliteCheckpointer', () => {
  let dir: string;
  let ds: DataSource;
  let checkpointer: SqliteCheckpointer;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rh-ckpt-'));
    ds = new DataSource({ type: 'better-sqlite3', database: path.join(dir, 'db.sqlite'), enableWAL: true });
    await ds.initialize();
    await ds.query('CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB NOT NULL)');
    // No safety net on the main connection: what keeps the WAL small here is the worker alone.
    checkpointer = new SqliteCheckpointer(ds, { intervalMs: 5, mainConnectionPages: 0 });
  });
  afterEach(async () => {
    await checkpointer.stop();
    await ds.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('takes checkpoints off the main connection and keeps the WAL small under ingest-like writes', async () => {
    await checkpointer.start();
    expect(await ds.query('PRAGMA wal_autocheckpoint')).toEqual([{ wal_autocheckpoint: 0 }]);
    await eventually(() => checkpointer.lastReport !== undefined, 'the worker to load the driver and open the file');
    const blob = Buffer.alloc(4096, 1);
    const rows = 1000; // ~10 MB of WAL without checkpoints
    let maxWal = 0;
    for (let k = 0; k < rows; k++) {
      await ds.query('INSERT INTO t (k, v) VALUES (?, ?)', [k, blob]);
      if (k % 25 === 0) {
        maxWal = Math.max(maxWal, fs.statSync(path.join(dir, 'db.sqlite-wal')).size);
        // Ingest commits in groups, with gaps between them: the worker checkpoints in the gap. Waiting for its report
        // (instead of a fixed 15 ms) keeps the bound true on a loaded machine, where the thread may get no CPU for a while.
        const before = checkpointer.lastReport;
        await eventually(
          () => checkpointer.lastReport !== before && checkpointer.lastReport!.checkpointed === checkpointer.lastReport!.log,
          'a checkpoint in the gap',
        );
      }
    }
    expect(maxWal).toBeLessThan(3 * 1024 * 1024);
    // Once writes stop, the worker copies everything back.
    await eventually(
      () => checkpointer.lastReport !== undefined && checkpointer.lastReport.checkpointed === checkpointer.lastReport.log,
      'the worker to copy the whole WAL back',
    );
    expect(await ds.query('SELECT COUNT(*) AS n FROM t')).toEqual([{ n: rows }]);
    expect(await ds.query('PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);
  });

  it('falls back to SQLite automatic checkpoints when its worker dies', async () => {
    await checkpointer.start();
    const worker = (checkpointer as unknown as { worker: { terminate(): Promise<number> } }).worker;
    await worker.terminate();
    await eventually(
      async () => (await ds.query('PRAGMA wal_autocheckpoint'))[0].wal_autocheckpoint === 1000,
      'automatic checkpoints back on',
    );
  });

  it('runs the compiled worker file from the build (dist/), as the server does', async () => {
    const built = path.resolve(__dirname, '../../dist/src/database/sqlite-checkpointer.js');
    if (!fs.existsSync(built)) throw new Error(`${built} is missing: run npm run build first`);
    const { SqliteCheckpointer: Built } = require(built) as { SqliteCheckpointer: typeof SqliteCheckpointer };
    const c = new Built(ds, { intervalMs: 5, mainConnectionPages: 0 });
    try {
      await c.start();
      await eventually(() => c.lastReport !== undefined, 'the compiled worker to report a checkpoint');
    } finally {
      await c.stop();
    }
  });

  it('leaves in-memory databases alone', async () => {
    const mem = new DataSource({ type: 'better-sqlite3', database: ':memory:' });
    await mem.initialize();
    const c = new SqliteCheckpointer(mem, { intervalMs: 10, mainConnectionPages: 0 });
    await c.start();
    expect((c as unknown as { worker?: unknown }).worker).toBeUndefined();
    await mem.destroy();
  });
});
