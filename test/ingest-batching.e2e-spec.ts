import type { QueryRunner } from 'typeorm';
import { UnitOfWork } from '../src/database/unit-of-work';
import { IngestionService } from '../src/ingestion/ingestion.service';
import { eventually } from './helpers/eventually';
import { CALLBACK_PATH, readFixture, startTestApp, TestApp } from './helpers/test-app';
import { describeDb, queryRows, testDbKind } from './helpers/test-database';

/** Several instances on one database is a PostgreSQL deployment; SQLite is embedded, one process. */
const itPostgres = testDbKind() === 'postgres' ? it : it.skip;

/** The batch being filled (pushes waiting for the next transaction): internal, read here to line pushes up. */
function waiting(t: TestApp): number {
  return (t.app.get(IngestionService) as unknown as { open: { pushes: unknown[]; closed: boolean } | null }).open?.pushes.length ?? 0;
}

function push(n: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...readFixture('small/000000.json'), timestamp: 1_700_000_500_000 + n, identity_id: `batch-${n}`, ...overrides };
}

describeDb('ingest batch writer', () => {
  let a: TestApp;

  beforeAll(async () => {
    a = await startTestApp({ env: { OUTBOX_RELAY_ENABLED: 'false' } });
  });
  afterAll(() => a?.close());

  const count = async (sql: string, params: unknown[] = []) =>
    Number((await queryRows<{ n: number | string }>(a.dataSource, sql, params))[0].n);

  it('a push the database refuses fails alone: the other pushes of its batch commit', async () => {
    // Stands for any per-row failure the edge cannot foresee: the database refuses one identity's records.
    if (testDbKind() === 'postgres') {
      await a.dataSource.query(`ALTER TABLE recognition_records ADD CONSTRAINT test_poison CHECK (identity_external_id <> 'poison')`);
    } else {
      await a.dataSource.query(
        `CREATE TRIGGER test_poison BEFORE INSERT ON recognition_records WHEN NEW.identity_external_id = 'poison'
         BEGIN SELECT RAISE(ABORT, 'poison'); END`,
      );
    }
    const ingestion = a.app.get(IngestionService);
    const before = { ...ingestion.batches };
    // Hold the writer so that the pushes below queue up into one batch: on SQLite a unit of work that waits, on
    // PostgreSQL a first push that waits on a lock of the boxes table (the next batch fills meanwhile).
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let blocker: Promise<unknown>;
    let locker: QueryRunner | undefined;
    if (testDbKind() === 'postgres') {
      locker = a.dataSource.createQueryRunner();
      await locker.startTransaction();
      await locker.query('LOCK TABLE boxes IN SHARE ROW EXCLUSIVE MODE');
      blocker = a
        .http()
        .post(CALLBACK_PATH)
        .send(push(100, { identity_id: 'blocker' }))
        .then((r) => expect(r.status).toBe(200));
      await eventually(async () => (await count(`SELECT COUNT(*) AS n FROM pg_locks WHERE NOT granted`)) > 0, 'the first push to wait');
    } else {
      blocker = a.app.get(UnitOfWork).run(() => gate);
    }
    const bodies = [...Array.from({ length: 6 }, (_, i) => push(i)), push(50, { identity_id: 'poison' })];
    const answers = bodies.map((b) => a.http().post(CALLBACK_PATH).send(b));
    const pending = Promise.all(answers.map((r) => r.then((res) => res)));
    await eventually(() => waiting(a) === bodies.length, 'all pushes to join one batch');
    if (locker) {
      await locker.commitTransaction();
      await locker.release();
    } else release();
    await blocker;
    const results = await pending;

    expect(results.slice(0, 6).map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(results[6].status).toBeGreaterThanOrEqual(500);
    expect(ingestion.batches.isolated).toBe(before.isolated + 1);
    expect(await count(`SELECT COUNT(*) AS n FROM recognition_records WHERE identity_external_id LIKE 'batch-%'`)).toBe(6);
    expect(await count(`SELECT COUNT(*) AS n FROM recognition_records WHERE identity_external_id = 'poison'`)).toBe(0);
    // Each stored record has its outbox event, none for the refused one.
    expect(
      await count(
        `SELECT COUNT(*) AS n FROM outbox_events o JOIN recognition_records r ON r.id = o.aggregate_id
         WHERE o.type = 'recognition.recorded' AND r.identity_external_id LIKE 'batch-%'`,
      ),
    ).toBe(6);

    // The same pushes again, in one batch with the refused one gone: duplicates, nothing stored twice.
    if (testDbKind() === 'postgres') await a.dataSource.query('ALTER TABLE recognition_records DROP CONSTRAINT test_poison');
    else await a.dataSource.query('DROP TRIGGER test_poison');
    const again = await Promise.all(bodies.map((b) => a.http().post(CALLBACK_PATH).send(b)));
    expect(again.map((r) => r.status)).toEqual(bodies.map(() => 200));
    expect(await count(`SELECT COUNT(*) AS n FROM recognition_records WHERE identity_external_id LIKE 'batch-%'`)).toBe(6);
    expect(await count(`SELECT COUNT(*) AS n FROM recognition_records WHERE identity_external_id = 'poison'`)).toBe(1);
  });

  it('folds several sightings of one box, camera and person in a batch into one row each, newest name winning', async () => {
    const base = readFixture('small/000001.json');
    const bodies = [0, 1, 2].map((i) => ({
      ...base,
      timestamp: 1_700_000_600_000 + i,
      identity_id: 'fold-1',
      identity_name: `Name ${i}`,
    }));
    // One array push: a batch of its own records at least.
    const res = await a.http().post(CALLBACK_PATH).send([bodies[2], bodies[0], bodies[1]]);
    expect(res.status).toBe(200);
    const [identity] = await queryRows<{ name: string; first_seen_at: string | number; last_seen_at: string | number }>(
      a.dataSource,
      `SELECT name, first_seen_at, last_seen_at FROM identities WHERE external_id = 'fold-1'`,
    );
    expect(identity.name).toBe('Name 2');
    expect(Number(identity.first_seen_at)).toBe(1_700_000_600_000);
    expect(Number(identity.last_seen_at)).toBe(1_700_000_600_002);
    expect(await count(`SELECT COUNT(*) AS n FROM recognition_records WHERE identity_external_id = 'fold-1'`)).toBe(3);
  });

  itPostgres('the same pushes reaching two instances at once are stored once', async () => {
    const b = await startTestApp({ env: { OUTBOX_RELAY_ENABLED: 'false' }, db: a.db });
    try {
      for (let round = 0; round < 5; round++) {
        const singles = Array.from({ length: 4 }, (_, i) => push(1000 + round * 10 + i, { identity_id: `twin-${round}-${i % 2}` }));
        const array = [push(2000 + round), push(3000 + round)];
        const sends = [...singles, array].flatMap((body) => [a, b].map((t) => t.http().post(CALLBACK_PATH).send(body)));
        const results = await Promise.all(sends);
        expect(results.map((r) => r.status)).toEqual(sends.map(() => 200));
      }
      expect(await count(`SELECT COUNT(*) AS n FROM recognition_records WHERE identity_external_id LIKE 'twin-%'`)).toBe(20);
      expect(
        await count(
          `SELECT COUNT(*) AS n FROM (SELECT box_id, device_external_id, identity_external_id, box_timestamp FROM recognition_records
           GROUP BY 1, 2, 3, 4 HAVING COUNT(*) > 1) d`,
        ),
      ).toBe(0);
      expect(
        await count(
          `SELECT COUNT(*) AS n FROM outbox_events o WHERE o.type = 'recognition.recorded'
           AND NOT EXISTS (SELECT 1 FROM recognition_records r WHERE r.id = o.aggregate_id)`,
        ),
      ).toBe(0);
      expect(await count(`SELECT COUNT(*) AS n FROM identities WHERE external_id LIKE 'twin-%'`)).toBe(10);
    } finally {
      await b.app.close();
    }
  });
});
