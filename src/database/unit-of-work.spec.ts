import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { DataSource, DataSourceOptions } from 'typeorm';
import { describeWithMount, mountSmallFilesystem, SmallFilesystem } from '../../test/helpers/small-filesystem';
import { adminDatabaseUrl } from '../../test/helpers/test-database';
import { isStorageFull } from '../common/storage-full';
import { TransactionLost, UnitOfWork } from './unit-of-work';

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
    if (ds.isInitialized) await ds.destroy();
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

  it('commits units that queue up together in one group, answering each only after that commit', async () => {
    const uow = new UnitOfWork(ds);
    const committed: boolean[] = [];
    const runs = Array.from({ length: 30 }, (_, i) =>
      uow
        .run(async (m) => {
          await m.query('INSERT INTO t (k, v) VALUES (?, ?)', [i, 'a']);
          return i;
        })
        .then(async (v) => {
          // Visible from outside the transaction as soon as the caller is answered.
          const seen: unknown[] = await ds.query('SELECT k FROM t WHERE k = ?', [v]);
          committed[v] = seen.length === 1;
        }),
    );
    await Promise.all(runs);
    expect(committed.filter(Boolean)).toHaveLength(30);
    expect(uow.groupCommits.works).toBe(30);
    expect(uow.groupCommits.groups).toBeLessThan(30);
  });

  it('fails every unit of a group whose commit fails, and keeps none of its writes', async () => {
    const uow = new UnitOfWork(ds);
    // A deferred foreign key is checked at COMMIT: one unit's bad row makes the whole group's commit fail.
    await ds.query('CREATE TABLE parent (id INTEGER PRIMARY KEY)');
    await ds.query('CREATE TABLE child (id INTEGER PRIMARY KEY, p INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)');
    await ds.query('PRAGMA foreign_keys = ON');
    const runs = [
      uow.run((m) => m.query('INSERT INTO t (k, v) VALUES (1, ?)', ['a'])),
      uow.run((m) => m.query('INSERT INTO t (k, v) VALUES (2, ?)', ['b'])),
      uow.run((m) => m.query('INSERT INTO child (id, p) VALUES (1, 99)')),
    ];
    const results = await Promise.allSettled(runs);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(await ds.query('SELECT k FROM t')).toEqual([]);
    // The queue keeps working afterwards.
    await uow.run((m) => m.query('INSERT INTO t (k, v) VALUES (3, ?)', ['c']));
    expect(await ds.query('SELECT k FROM t')).toEqual([{ k: 3 }]);
  });

  it('with synchronous=NORMAL, answers each unit only after an fsync of the WAL that began after its commit', async () => {
    await ds.destroy();
    ds = new DataSource({
      type: 'better-sqlite3',
      database: path.join(dir, 'wal.sqlite'),
      enableWAL: true,
      prepareDatabase: (conn: { pragma: (s: string) => unknown }) => {
        conn.pragma('synchronous = NORMAL');
      },
    });
    await ds.initialize();
    await ds.query('CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)');
    const events: string[] = [];
    const open = fs.promises.open;
    const spy = jest.spyOn(fs.promises, 'open').mockImplementation(async (file, flags) => {
      const handle = await open(file, flags);
      if (String(file).endsWith('wal.sqlite-wal')) {
        const sync = handle.sync.bind(handle);
        handle.sync = async () => {
          events.push('sync-start');
          await sync();
          events.push('sync-end');
        };
      }
      return handle;
    });
    try {
      const uow = new UnitOfWork(ds);
      await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          uow
            .run(async (m) => {
              await m.query('INSERT INTO t (k, v) VALUES (?, ?)', [i, 'a']);
              events.push(`work-${i}`);
            })
            .then(() => events.push(`answered-${i}`)),
        ),
      );
      for (let i = 0; i < 12; i++) {
        const worked = events.indexOf(`work-${i}`);
        const answered = events.indexOf(`answered-${i}`);
        const syncStart = events.indexOf('sync-start', worked);
        expect(syncStart).toBeGreaterThan(worked);
        expect(events.indexOf('sync-end', syncStart)).toBeLessThan(answered);
      }
    } finally {
      spy.mockRestore();
    }
  });

  it('with the database at max_page_count (SQLITE_FULL from a statement), keeps every unit it answered and recovers', async () => {
    const uow = new UnitOfWork(ds);
    const answered: number[] = [];
    const refused: unknown[] = [];
    const wave = (from: number) =>
      Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          uow
            .run((m) => m.query('INSERT INTO t (k, v) VALUES (?, ?)', [from + i, 'x'.repeat(3000)]))
            .then(
              () => answered.push(from + i),
              (e: unknown) => refused.push(e),
            ),
        ),
      );
    const [{ page_count: pages }] = await ds.query('PRAGMA page_count');
    await ds.query(`PRAGMA max_page_count = ${pages + 20}`);
    for (let w = 0; w < 10; w++) await wave(w * 8);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.filter((e) => !isStorageFull(e))).toEqual([]);
    await ds.query('PRAGMA max_page_count = 1073741823');
    const before = answered.length;
    for (let w = 10; w < 13; w++) await wave(w * 8);
    expect(answered.length - before).toBe(24);
    const rows: { k: number }[] = await ds.query('SELECT k FROM t');
    expect(rows.map((r) => r.k).sort((a, b) => a - b)).toEqual(answered.sort((a, b) => a - b));
  });

  describeWithMount('when the disk fills up', () => {
    let small: SmallFilesystem;
    beforeEach(() => (small = mountSmallFilesystem(2 << 20)));
    afterEach(async () => {
      if (ds.isInitialized) await ds.destroy();
      small.unmount();
    });

    // Before the fix, the first COMMIT that failed for lack of space left TypeORM counting an open transaction
    // that SQLite had already rolled back: every later group ran inside a transaction never committed, was
    // answered, and was gone after the restart.
    it('keeps every unit it answered, refuses the others as storage-full, and recovers once space returns', async () => {
      await ds.destroy();
      // The production settings that matter here: WAL, synchronous=NORMAL (UnitOfWork fsyncs the WAL).
      const options: DataSourceOptions = {
        type: 'better-sqlite3',
        database: path.join(small.dir, 'db.sqlite'),
        enableWAL: true,
        prepareDatabase: (conn: { pragma: (s: string) => unknown }) => {
          conn.pragma('synchronous = NORMAL');
          conn.pragma('temp_store = MEMORY');
        },
      };
      ds = new DataSource(options);
      await ds.initialize();
      await ds.query('CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)');
      const uow = new UnitOfWork(ds);
      const answered: number[] = [];
      const refused: unknown[] = [];
      let next = 0;
      const wave = () =>
        Promise.all(
          Array.from({ length: 8 }, () => {
            const k = next++;
            return uow
              .run((m) => m.query('INSERT INTO t (k, v) VALUES (?, ?)', [k, 'x'.repeat(3000)]))
              .then(
                () => answered.push(k),
                (e: unknown) => refused.push(e),
              );
          }),
        );

      for (let i = 0; i < 3; i++) await wave();
      expect(refused).toEqual([]);
      small.fill();
      for (let i = 0; i < 200 && refused.length === 0; i++) await wave();
      expect(refused.length).toBeGreaterThan(0);
      for (let i = 0; i < 10; i++) await wave(); // keep pushing while the disk is full
      expect(refused.filter((e) => !isStorageFull(e))).toEqual([]);

      small.free();
      const before = answered.length;
      for (let i = 0; i < 5; i++) await wave();
      expect(answered.length - before).toBe(40); // no restart needed

      await ds.destroy();
      ds = new DataSource(options);
      await ds.initialize();
      const rows: { k: number }[] = await ds.query('SELECT k FROM t');
      const stored = new Set(rows.map((r) => r.k));
      expect(answered.filter((k) => !stored.has(k))).toEqual([]);
    });
  });
});

const describePostgres = process.env.TEST_POSTGRES_AVAILABLE === '0' ? describe.skip : describe;

describePostgres('UnitOfWork on PostgreSQL', () => {
  const name = `rh_uow_${process.pid}_${Date.now()}`;
  let ds: DataSource;

  beforeAll(async () => {
    const admin = new Client({ connectionString: adminDatabaseUrl() });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(adminDatabaseUrl());
    url.pathname = `/${name}`;
    ds = new DataSource({ type: 'postgres', url: url.toString(), poolSize: 2 });
    await ds.initialize();
    await ds.query('CREATE TABLE parent (id INTEGER PRIMARY KEY)');
    await ds.query('CREATE TABLE child (id INTEGER PRIMARY KEY, p INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)');
  });
  afterAll(async () => {
    await ds?.destroy();
    const admin = new Client({ connectionString: adminDatabaseUrl() });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });
  beforeEach(() => ds.query('TRUNCATE child, parent'));

  it('rejects when COMMIT fails, and keeps nothing', async () => {
    const uow = new UnitOfWork(ds);
    // The deferred foreign key is checked at COMMIT.
    await expect(uow.run((m) => m.query('INSERT INTO child (id, p) VALUES (1, 99)'))).rejects.toThrow(/foreign key/);
    expect(await ds.query('SELECT id FROM child')).toEqual([]);
    await uow.run((m) => m.query('INSERT INTO parent (id) VALUES (1)'));
    expect(await ds.query('SELECT id FROM parent')).toEqual([{ id: 1 }]);
  });

  it('rejects a transaction that PostgreSQL rolled back at COMMIT because a statement in it had failed', async () => {
    const uow = new UnitOfWork(ds);
    const run = uow.run(async (m) => {
      await m.query('INSERT INTO parent (id) VALUES (2)');
      await m.query('INSERT INTO parent (id) VALUES (2)').catch(() => undefined); // failure swallowed: transaction aborted
    });
    await expect(run).rejects.toThrow(TransactionLost);
    expect(await ds.query('SELECT id FROM parent')).toEqual([]);
    // The pooled connection was handed back in a usable state.
    await Promise.all([1, 2, 3].map((id) => uow.run((m) => m.query('INSERT INTO parent (id) VALUES ($1)', [id]))));
    expect(await ds.query('SELECT id FROM parent ORDER BY id')).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
  });
});
