import * as amqp from 'amqplib';
import { randomUUID } from 'node:crypto';
import { boxRecord, Json, push } from './helpers/api-client';
import { AMQP_BROKER, amqpConsumer, AmqpMessage, firstArrivals, settledOutbox } from './helpers/broker-consumers';
import { eventually } from './helpers/eventually';
import { sample } from './helpers/prometheus';
import { startTcpProxy, TcpProxy } from './helpers/tcp-proxy';
import { startTestApp, TestApp } from './helpers/test-app';
import { createTestDatabase, describeDb, TestDatabase, testDbKind } from './helpers/test-database';

const T = 1_730_000_000_000;

describeDb('brokers: domain events on AMQP 0-9-1', () => {
  const exchange = `rh-test.${randomUUID().slice(0, 8)}`;
  let proxy: TcpProxy;
  let db: TestDatabase;
  let t: TestApp;
  let consumer: Awaited<ReturnType<typeof amqpConsumer>>;
  let seq = 0;
  const nextTime = () => T + ++seq * 1000;
  const env = () => ({
    AMQP_URL: `amqp://guest:guest@127.0.0.1:${proxy.port}`,
    AMQP_EXCHANGE: exchange,
    BROKER_POLL_INTERVAL_MS: '100',
    BROKER_RECONNECT_MAX_MS: '300',
  });

  const envelopes = (messages: AmqpMessage[] = consumer.messages) => messages.map((m) => JSON.parse(m.body) as Json);
  /** First arrival of each event (at least once: a batch cut off before its confirm may come twice). */
  const firsts = () => firstArrivals(envelopes());
  const outbox = (app = t) => settledOutbox(app.app);
  const readiness = async (app = t) => (await app.http().get('/health/ready').expect(200)).body.details.amqp as Json;

  beforeAll(async () => {
    proxy = await startTcpProxy(AMQP_BROKER);
    consumer = await amqpConsumer(exchange);
    db = await createTestDatabase();
    t = await startTestApp({ db, env: env() });
  });
  afterAll(async () => {
    await t?.close();
    await consumer?.close();
    await proxy?.close();
    await db?.drop();
  });

  it('publishes every event to the durable topic exchange, routed by type, persistent, with the event id as message_id', async () => {
    await eventually(async () => (await readiness()).state === 'connected', 'amqp connected');
    await push(t, boxRecord({ identity: 'p-1', timestamp: nextTime() }));
    await push(t, boxRecord({ identity: 'bad-1', userType: 'blacklist', timestamp: nextTime() }));
    await push(t, boxRecord({ identity: 'vip-1', userType: 'vip', timestamp: nextTime() }));
    const expected = await outbox();
    expect(expected.map((e) => e.type)).toEqual(expect.arrayContaining(['recognition.recorded', 'alert.blacklist-seen', 'alert.vip-seen']));
    await eventually(() => consumer.messages.length >= expected.length, 'every event on AMQP');
    expect(envelopes()).toEqual(expected);
    for (const m of consumer.messages) {
      const e = JSON.parse(m.body) as Json;
      expect(m.exchange).toBe(exchange);
      expect(m.routingKey).toBe(e.type);
      expect(m.properties).toMatchObject({ messageId: e.id, deliveryMode: 2, contentType: 'application/json', type: e.type });
    }
    // The exchange is durable: declaring it otherwise is refused by the broker.
    const conn = await amqp.connect(`amqp://guest:guest@${AMQP_BROKER.host}:${AMQP_BROKER.port}`);
    try {
      const ch = await conn.createChannel();
      ch.on('error', () => undefined);
      await expect(ch.assertExchange(exchange, 'topic', { durable: false })).rejects.toThrow(/PRECONDITION_FAILED/);
    } finally {
      await conn.close().catch(() => undefined);
    }
    expect(await readiness()).toEqual({ status: 'up', state: 'connected' });
    const metrics = (await t.http().get('/metrics').expect(200)).text;
    // Counted when the broker's acknowledgement reaches the hub, which may be after the consumer got the message.
    await eventually(
      async () =>
        sample((await t.http().get('/metrics').expect(200)).text, 'rh_broker_published_total', { broker: 'amqp' }) === expected.length,
      'published count',
    );
    expect(metrics).not.toMatch(/guest:guest/);
  });

  it('loses nothing when the broker goes away during ingest, and keeps order', async () => {
    const before = (await outbox()).length;
    await push(t, boxRecord({ identity: 'o-1', timestamp: nextTime() }));
    await proxy.refuse();
    await eventually(async () => (await readiness()).state !== 'connected', 'amqp reported away');
    for (let i = 2; i <= 6; i++)
      await push(t, boxRecord({ identity: `o-${i}`, userType: i === 4 ? 'vip' : 'employee', timestamp: nextTime() }));
    // Still ready: a broker outage delays only its own stream.
    expect((await t.http().get('/health/ready').expect(200)).body.status).toBe('ok');
    let metrics = (await t.http().get('/metrics').expect(200)).text;
    expect(sample(metrics, 'rh_broker_lag_events', { broker: 'amqp' })).toBeGreaterThan(0);
    expect(sample(metrics, 'rh_broker_connected', { broker: 'amqp' })).toBe(0);
    await proxy.restore();
    await push(t, boxRecord({ identity: 'o-7', timestamp: nextTime() }));

    const expected = await outbox();
    expect(expected.length).toBeGreaterThanOrEqual(before + 8);
    await eventually(() => firsts().length >= expected.length, 'every event after the outage', 30_000);
    expect(firsts()).toEqual(expected);
    await eventually(async () => {
      metrics = (await t.http().get('/metrics').expect(200)).text;
      return sample(metrics, 'rh_broker_lag_events', { broker: 'amqp' }) === 0;
    }, 'caught up');
    expect(sample(metrics, 'rh_broker_lag_seconds', { broker: 'amqp' })).toBe(0);
  });

  it('resumes where it stopped after a restart', async () => {
    await proxy.refuse();
    for (let i = 1; i <= 3; i++) await push(t, boxRecord({ identity: `r-${i}`, timestamp: nextTime() }));
    const expected = await outbox();
    await t.close();
    await proxy.restore();
    t = await startTestApp({ db, env: env() });
    await eventually(() => firsts().length >= expected.length, 'events written before the restart');
    expect(firsts()).toEqual(expected);
  });

  it('is held up only by its own broker: with MQTT unreachable, AMQP carries on and readiness stays ok', async () => {
    const ownExchange = `${exchange}.both`;
    const own = await amqpConsumer(ownExchange);
    const mqttProxy = await startTcpProxy({ host: '127.0.0.1', port: 1883 });
    await mqttProxy.refuse();
    const both = await startTestApp({
      env: {
        ...env(),
        AMQP_EXCHANGE: ownExchange,
        MQTT_URL: `mqtt://127.0.0.1:${mqttProxy.port}`,
        MQTT_TOPIC_PREFIX: `rh-test/${randomUUID().slice(0, 8)}`,
      },
    });
    try {
      for (let i = 1; i <= 3; i++) await push(both, boxRecord({ identity: `i-${i}`, timestamp: nextTime() }));
      const expected = await outbox(both);
      await eventually(() => own.messages.length >= expected.length, 'events on AMQP while MQTT is away');
      expect(envelopes(own.messages)).toEqual(expected);
      const ready = (await both.http().get('/health/ready').expect(200)).body as Json;
      expect(ready.status).toBe('ok');
      expect((ready.details as Json).amqp).toEqual({ status: 'up', state: 'connected' });
      expect(((ready.details as Json).mqtt as Json).state).not.toBe('connected');
      const metrics = (await both.http().get('/metrics').expect(200)).text;
      expect(sample(metrics, 'rh_broker_lag_events', { broker: 'mqtt' })).toBe(expected.length);
      expect(sample(metrics, 'rh_broker_lag_events', { broker: 'amqp' })).toBe(0);
    } finally {
      await both.close();
      await own.close();
      await mqttProxy.close();
    }
  });

  it('moves its cursor only on confirms: a broker gone silent gets the unconfirmed batch again', async () => {
    const ownExchange = `${exchange}.silent`;
    const own = await amqpConsumer(ownExchange);
    const quiet = await startTcpProxy(AMQP_BROKER);
    const app = await startTestApp({
      env: {
        ...env(),
        AMQP_URL: `amqp://guest:guest@127.0.0.1:${quiet.port}`,
        AMQP_EXCHANGE: ownExchange,
        BROKER_PUBLISH_TIMEOUT_MS: '1000',
      },
    });
    const scrape = async () => (await app.http().get('/metrics').expect(200)).text;
    try {
      await eventually(async () => (await readiness(app)).state === 'connected', 'amqp connected');
      quiet.silence();
      for (let i = 1; i <= 3; i++) await push(app, boxRecord({ identity: `s-${i}`, timestamp: nextTime() }));
      // No confirm comes back: the batch counts as failed and the cursor stays before it.
      await eventually(async () => sample(await scrape(), 'rh_broker_failed_total', { broker: 'amqp' }) > 0, 'an unconfirmed batch');
      const expected = await outbox(app);
      expect(sample(await scrape(), 'rh_broker_lag_events', { broker: 'amqp' })).toBe(expected.length);
      await quiet.restore();
      await eventually(
        () => new Set(envelopes(own.messages).map((e) => e.id)).size >= expected.length,
        'every event once the broker answers',
      );
      expect(firstArrivals(envelopes(own.messages))).toEqual(expected);
      await eventually(async () => sample(await scrape(), 'rh_broker_lag_events', { broker: 'amqp' }) === 0, 'caught up');
    } finally {
      await app.close();
      await own.close();
      await quiet.close();
    }
  });

  // Two instances on one PostgreSQL (SQLite is one process per file).
  (testDbKind() === 'postgres' ? it : it.skip)('lets one instance at a time publish, and another take over when it stops', async () => {
    const second = await startTestApp({ db, env: env() });
    try {
      await eventually(async () => (await readiness()).state === 'connected', 'first instance publishing');
      expect(await readiness(second)).toEqual({ status: 'up', state: 'standby' });
      for (let i = 1; i <= 4; i++) await push(i % 2 ? t : second, boxRecord({ identity: `m-${i}`, timestamp: nextTime() }));
      let expected = await outbox();
      await eventually(() => consumer.messages.length >= expected.length, 'events from both instances');
      expect(envelopes()).toEqual(expected);

      // The first stops (releasing its lease); the second carries on from the shared cursor.
      await t.close();
      await push(second, boxRecord({ identity: 'm-5', timestamp: nextTime() }));
      expected = await outbox(second);
      await eventually(() => firsts().length >= expected.length, 'events after the takeover');
      expect(firsts()).toEqual(expected);
      expect(await readiness(second)).toEqual({ status: 'up', state: 'connected' });
    } finally {
      t = second;
    }
  });
});
