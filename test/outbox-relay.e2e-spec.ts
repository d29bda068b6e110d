import { EventEmitter2 } from '@nestjs/event-emitter';
import { UnitOfWork } from '../src/database/unit-of-work';
import { RecognitionRecordedEvent, RecordRef } from '../src/events/domain-events';
import { OutboxRelay } from '../src/events/outbox-relay.service';
import { OutboxService } from '../src/events/outbox.service';
import { onAwaited } from './helpers/awaited-listener';
import { CALLBACK_PATH, readFixture, startTestApp, TestApp } from './helpers/test-app';
import { describeDb, testDbKind } from './helpers/test-database';

/** Several instances on one database is a PostgreSQL deployment; SQLite is embedded, one process. */
const itPostgres = testDbKind() === 'postgres' ? it : it.skip;

function ref(n: number): RecordRef {
  return {
    recordId: `relay-test-${n}`,
    boxId: 'box',
    licenseKey: 'KEY',
    mediaDeviceId: 'md',
    deviceExternalId: 'cam',
    identityId: null,
    identityExternalId: `relay-${n}`,
    identityName: null,
    userType: null,
    postAction: '0',
    occurredAt: 1_700_000_000_000 + n,
    score: null,
    hasDefects: false,
  };
}

describeDb('outbox relay shared by several instances', () => {
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    // Relays are driven by the test (drain), not by their timers; small batches make them take turns.
    const env = { OUTBOX_RELAY_ENABLED: 'false', OUTBOX_BATCH_SIZE: '10' };
    a = await startTestApp({ env });
    b = await startTestApp({ env, db: a.db });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  const enqueue = async (from: number, n: number) => {
    const outbox = a.app.get(OutboxService);
    await a.app.get(UnitOfWork).run((m) =>
      outbox.enqueue(
        m,
        'relay-test',
        Array.from({ length: n }, (_, i) => new RecognitionRecordedEvent(ref(from + i))),
        Date.now(),
      ),
    );
  };

  /** Counts deliveries per outbox id and instance, and any delivery of a row another instance has in hand. */
  function watch() {
    const deliveries = new Map<number, string[]>();
    const inFlight = new Set<number>();
    let overlaps = 0;
    const unsubscribes: (() => void)[] = [];
    const hooks: Record<string, (id: number) => Promise<void>> = {};
    for (const [name, app] of [
      ['a', a],
      ['b', b],
    ] as const) {
      const emitter = app.app.get(EventEmitter2);
      const fn = async (e: RecognitionRecordedEvent) => {
        const id = e.meta!.eventId;
        if (inFlight.has(id)) overlaps++;
        inFlight.add(id);
        deliveries.set(id, [...(deliveries.get(id) ?? []), name]);
        await hooks[name]?.(id);
        await new Promise((r) => setImmediate(r)); // let the other relay run meanwhile
        inFlight.delete(id);
      };
      unsubscribes.push(onAwaited(emitter, RecognitionRecordedEvent.type, fn));
    }
    return {
      deliveries,
      overlaps: () => overlaps,
      hooks,
      stop: () => unsubscribes.forEach((unsubscribe) => unsubscribe()),
    };
  }

  const pendingRows = async () =>
    Number((await a.dataSource.query('SELECT COUNT(*) AS n FROM outbox_events WHERE processed_at IS NULL OR claimed_by IS NOT NULL'))[0].n);
  const rowIds = async () =>
    ((await a.dataSource.query(`SELECT id FROM outbox_events WHERE aggregate_id = 'relay-test'`)) as { id: string }[]).map((r) =>
      Number(r.id),
    );

  itPostgres('two instances share a backlog: each row delivered once, never by both at the same time', async () => {
    await enqueue(0, 250);
    const w = watch();
    try {
      // Instance a claims the first batch and holds it until b has delivered from its own claim.
      let bDelivered!: () => void;
      const bStarted = new Promise<void>((r) => (bDelivered = r));
      let aHolding!: () => void;
      const aHolds = new Promise<void>((r) => (aHolding = r));
      w.hooks.a = async () => {
        aHolding();
        await bStarted;
      };
      w.hooks.b = async () => bDelivered();

      const drainA = a.drainOutbox();
      await aHolds;
      await Promise.all([drainA, b.drainOutbox()]);

      const ids = await rowIds();
      expect(ids).toHaveLength(250);
      expect([...w.deliveries.keys()].sort((x, y) => x - y)).toEqual(ids.sort((x, y) => x - y));
      expect([...w.deliveries.values()].every((by) => by.length === 1)).toBe(true);
      const by = [...w.deliveries.values()].flat();
      expect(by.filter((x) => x === 'a').length).toBeGreaterThan(0);
      expect(by.filter((x) => x === 'b').length).toBeGreaterThan(0);
      expect(w.overlaps()).toBe(0);
      expect(await pendingRows()).toBe(0);
    } finally {
      w.stop();
    }
  });

  itPostgres('concurrent claims from both instances (FOR UPDATE SKIP LOCKED) never hand out a row twice', async () => {
    await enqueue(1000, 600);
    const w = watch();
    try {
      // Several rounds of simultaneous passes from both instances over the same backlog.
      await Promise.all([a.drainOutbox(), b.drainOutbox(), a.app.get(OutboxRelay).drain(), b.app.get(OutboxRelay).drain()]);
      expect(w.deliveries.size).toBe(600);
      expect([...w.deliveries.values()].every((by) => by.length === 1)).toBe(true);
      expect(w.overlaps()).toBe(0);
      expect(await pendingRows()).toBe(0);
    } finally {
      w.stop();
    }
  });

  itPostgres('two instances applying face updates of one identity at once leave exactly one current face, the newest', async () => {
    // Feature only, no images: enough for a face entry, and quick to post.
    const base = readFixture('small/000012.json');
    const times = Array.from({ length: 40 }, (_, i) => 1_750_000_000_000 + ((i * 17) % 40) * 1000); // shuffled
    for (const timestamp of times) {
      const body = { ...base, identity_id: 'C-concurrent', post_action: '1002', timestamp };
      const res = await a.http().post(CALLBACK_PATH).set('content-type', 'application/json').send(body);
      expect(res.status).toBe(200);
    }
    await Promise.all([a.drainOutbox(), b.drainOutbox()]);

    const faces: { captured_at: string | number; is_current: boolean }[] = await a.dataSource.query(
      `SELECT f.captured_at, f.is_current FROM faces f JOIN identities i ON i.id = f.identity_id
       WHERE i.external_id = 'C-concurrent'`,
    );
    expect(faces).toHaveLength(40);
    const current = faces.filter((f) => f.is_current);
    expect(current.map((f) => Number(f.captured_at))).toEqual([Math.max(...times)]);
    // Not even a transient conflict that a retry had to repair.
    const failed = await a.dataSource.query('SELECT COUNT(*) AS n FROM outbox_events WHERE attempts > 0');
    expect(Number(failed[0].n)).toBe(0);
  });
  it('a failing batch handler sends the whole batch back for a retry; its events reach listeners once it succeeds', async () => {
    const outbox = a.app.get(OutboxService);
    await a.app.get(UnitOfWork).run((m) =>
      outbox.enqueue(
        m,
        'batch-test',
        Array.from({ length: 3 }, (_, i) => new RecognitionRecordedEvent(ref(9000 + i))),
        Date.now(),
      ),
    );
    const ids = (
      (await a.dataSource.query(`SELECT id FROM outbox_events WHERE aggregate_id = 'batch-test' ORDER BY id`)) as { id: string }[]
    ).map((r) => Number(r.id));
    let failing = true;
    const batches: number[][] = [];
    // Registered on instance a only, last in this file: it stays subscribed.
    a.app.get(OutboxRelay).onBatch(async (items) => {
      const mine = items.map((i) => i.eventId).filter((id) => ids.includes(id));
      if (mine.length === 0) return;
      batches.push(mine);
      if (failing) throw new Error('batch store unavailable');
    });
    const w = watch();
    try {
      await a.drainOutbox();
      expect(batches).toEqual([ids]); // one call for the whole batch
      expect(ids.filter((id) => w.deliveries.has(id))).toEqual([]); // no listener ran
      const rows = (await a.dataSource.query(
        `SELECT attempts, last_error, processed_at, claimed_by FROM outbox_events WHERE aggregate_id = 'batch-test' ORDER BY id`,
      )) as { attempts: number; last_error: string; processed_at: unknown; claimed_by: unknown }[];
      expect(rows.map((r) => [Number(r.attempts), r.last_error, r.processed_at, r.claimed_by])).toEqual(
        ids.map(() => [1, 'batch store unavailable', null, null]),
      );

      failing = false;
      await a.dataSource.query(`UPDATE outbox_events SET available_at = 0 WHERE aggregate_id = 'batch-test'`);
      await a.drainOutbox();
      expect(batches).toEqual([ids, ids]);
      expect(ids.map((id) => w.deliveries.get(id))).toEqual(ids.map(() => ['a']));
      const left = await a.dataSource.query(`SELECT id FROM outbox_events WHERE aggregate_id = 'batch-test' AND processed_at IS NULL`);
      expect(left).toEqual([]);
    } finally {
      w.stop();
    }
  });
});

describeDb('outbox relay under a stream of commits', () => {
  let t: TestApp;

  beforeAll(async () => {
    // The relay runs as in production (kicked after commits); its timer is kept out of the way.
    t = await startTestApp({ env: { OUTBOX_RELAY_ENABLED: 'true', OUTBOX_POLL_INTERVAL_MS: '600000' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('passes kicked while one runs or just ran are spaced, so a burst of commits is relayed in a pass or two', async () => {
    const relay = t.app.get(OutboxRelay);
    const outbox = t.app.get(OutboxService);
    await relay.drain();
    const passes: number[] = [];
    relay.onBatch(async (items) => {
      const mine = items.filter((i) => i.type === RecognitionRecordedEvent.type).length;
      if (mine > 0) passes.push(mine);
    });
    // Ten commits 20 ms apart, each kicking the relay as ingest does.
    const started = Date.now();
    for (let n = 0; n < 10; n++) {
      await t.app.get(UnitOfWork).run((m) => outbox.enqueue(m, `spaced-${n}`, [new RecognitionRecordedEvent(ref(7000 + n))], Date.now()));
      relay.kick();
      await new Promise((r) => setTimeout(r, 20));
    }
    // On a loaded machine the commits themselves take longer than 20 ms each: the passes are bounded by the time
    // the commits really took (one pass per 250 ms of it, the first at once, one more for the last commits).
    const committing = Date.now() - started;
    const until = Date.now() + 10_000;
    while (passes.reduce((a, b) => a + b, 0) < 10 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(passes.reduce((a, b) => a + b, 0)).toBe(10);
    // Back to back, each commit would have had a pass of its own. Within 500 ms of commits (the usual case) this is
    // at most 3 passes.
    expect(passes.length).toBeLessThanOrEqual(2 + Math.floor(committing / 250));
    expect(passes.length).toBeLessThan(10);
  });
});
