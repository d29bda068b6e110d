import { randomUUID } from 'node:crypto';
import { boxRecord, Json } from './helpers/api-client';
import { amqpConsumer, firstArrivals, settledOutbox } from './helpers/broker-consumers';
import { eventually } from './helpers/eventually';
import { ServerProcess, spawnServer } from './helpers/spawn-server';
import { CALLBACK_PATH, startTestApp, TestApp } from './helpers/test-app';
import { createTestDatabase, describeDb, TestDatabase, testDbKind } from './helpers/test-database';

const T = 1_740_000_000_000;

/**
 * The instance holding a broker stream dies with SIGKILL (no release of its lease, no final pass): another
 * instance takes the stream over and publishes everything the outbox holds, in order (at least once).
 */
describeDb('brokers: stream takeover after kill -9 (spawned server)', () => {
  const exchange = `rh-test.${randomUUID().slice(0, 8)}.takeover`;
  let db: TestDatabase;
  let a: ServerProcess | undefined;
  let b: TestApp | undefined;
  let consumer: Awaited<ReturnType<typeof amqpConsumer>>;
  let seq = 0;
  const env = {
    AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672',
    AMQP_EXCHANGE: exchange,
    BROKER_POLL_INTERVAL_MS: '100',
    BROKER_RECONNECT_MAX_MS: '300',
    BROKER_LEASE_MS: '3000',
    OUTBOX_LEASE_MS: '2000',
    OUTBOX_POLL_INTERVAL_MS: '100',
  };
  const pushTo = async (s: ServerProcess, identity: string) => {
    const res = await fetch(`${s.url}${CALLBACK_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(boxRecord({ identity, timestamp: T + ++seq * 1000 })),
    });
    expect(res.status).toBe(200);
  };
  const envelopes = () => consumer.messages.map((m) => JSON.parse(m.body) as Json);
  const firsts = () => firstArrivals(envelopes());
  const readiness = async (app: TestApp) => (await app.http().get('/health/ready').expect(200)).body.details.amqp as Json;

  beforeAll(async () => {
    consumer = await amqpConsumer(exchange);
    db = await createTestDatabase();
  });
  afterAll(async () => {
    a?.kill('SIGKILL');
    await a?.exited;
    await b?.close();
    await consumer?.close();
    await db?.drop();
  });

  it('another instance takes the stream over once the dead holder lease runs out, and publishes everything in order', async () => {
    a = await spawnServer({ ...db.env, ...env });
    await pushTo(a, 'k-1');
    await eventually(() => consumer.messages.length >= 1, 'the first instance publishing');
    const postgres = testDbKind() === 'postgres';
    // On PostgreSQL the second instance runs beside the first, standing by; SQLite is one process per file, so
    // there it starts after the kill (and drops the dead process's lease at once).
    if (postgres) {
      b = await startTestApp({ db, env });
      expect(await readiness(b)).toEqual({ status: 'up', state: 'standby' });
    }
    for (let i = 2; i <= 6; i++) await pushTo(a, `k-${i}`);
    a.kill('SIGKILL');
    expect(await a.exited).toBe('SIGKILL');
    a = undefined;
    b ??= await startTestApp({ db, env });
    await b
      .http()
      .post(CALLBACK_PATH)
      .send(boxRecord({ identity: 'k-7', timestamp: T + ++seq * 1000 }))
      .expect(200);

    const expected = await settledOutbox(b.app);
    expect(expected.filter((e) => e.type === 'recognition.recorded').map((e) => (e.data as Json).identityExternalId)).toEqual([
      'k-1',
      'k-2',
      'k-3',
      'k-4',
      'k-5',
      'k-6',
      'k-7',
    ]);
    await eventually(() => firsts().length >= expected.length, 'every event after the takeover');
    expect(firsts()).toEqual(expected);
    expect(envelopes().filter((e) => !expected.some((x) => x.id === e.id))).toEqual([]);
    expect(await readiness(b)).toEqual({ status: 'up', state: 'connected' });
  });
});
