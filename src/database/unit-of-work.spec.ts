import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { UnitOfWork } from './unit-of-work';

describe('UnitOfWork on SQLite', () => {
  let dir: string;
  let ds: DataSource;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rh-uow-'));
    ds = new DataSource({ type: 'better-sqlite3', database: path.join(dir, 'db.sqlite') });
    await ds.initialize();
    await ds.query('CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)');
  });
  afterEach(async () => {
    await ds.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('runs concurrent transactions one after another, so a rollback undoes only its own work', async () => {
    const uow = new UnitOfWork(ds);
    const runs = Array.from({ length: 20 }, (_, i) =>
      uow.run(async (m) => {
        await m.query('INSERT INTO t (k, v) VALUES (?, ?)', [i, 'a']);
        await new Promise((r) => setTimeout(r, 1)); // yield so the others try to interleave
        if (i % 5 === 0) throw new Error(`abort ${i}`);
        await m.query('UPDATE t SET v = ? WHERE k = ?', ['b', i]);
      }),
    );
    const results = await Promise.allSettled(runs);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(4);
    const rows: { k: number; v: string }[] = await ds.query('SELECT k, v FROM t ORDER BY k');
    expect(rows.map((r) => r.k)).toEqual(Array.from({ length: 20 }, (_, i) => i).filter((i) => i % 5 !== 0));
    expect(rows.every((r) => r.v === 'b')).toBe(true);
  });
});
