import { randomUUID } from 'node:crypto';
import { connect } from 'mqtt';
import { boxRecord, Json, longBase64Strings, push } from './helpers/api-client';
import { MQTT_BROKER, mqttConsumer, MqttMessage, firstArrivals, settledOutbox } from './helpers/broker-consumers';
import { eventually } from './helpers/eventually';
import { sample } from './helpers/prometheus';
import { startTcpProxy, TcpProxy } from './helpers/tcp-proxy';
import { startTestApp, TestApp } from './helpers/test-app';
import { createTestDatabase, describeDb, TestDatabase } from './helpers/test-database';

const T = 1_720_000_000_000;
const PASSWORD = 'not-in-any-output';

/** Retained messages under `filter`, as a new subscriber gets them. */
async function retained(filter: string): Promise<Map<string, string>> {
  const client = connect(`mqtt://${MQTT_BROKER.host}:${MQTT_BROKER.port}`, { reconnectPeriod: 0 });
  const got = new Map<string, string>();
  client.on('message', (topic, payload, packet) => {
    if (packet.retain) got.set(topic, payload.toString('utf8'));
  });
  await client.subscribeAsync(filter, { qos: 1 });
  await new Promise((r) => setTimeout(r, 300));
  await client.endAsync(true);
  return got;
}

describeDb('brokers: domain events on MQTT', () => {
  const prefix = `rh-test/${randomUUID().slice(0, 8)}`;
  let proxy: TcpProxy;
  let db: TestDatabase;
  let t: TestApp;
  let consumer: Awaited<ReturnType<typeof mqttConsumer>>;
  let seq = 0;
  const nextTime = () => T + ++seq * 1000;
  const env = () => ({
    MQTT_URL: `mqtt://hub:${PASSWORD}@127.0.0.1:${proxy.port}`,
    MQTT_TOPIC_PREFIX: prefix,
    BROKER_POLL_INTERVAL_MS: '100',
    BROKER_RECONNECT_MAX_MS: '300',
  });

  /** Event envelopes received, in arrival order (with any redeliveries). */
  const received = (messages: MqttMessage[] = consumer.messages) =>
    messages
      .filter((m) => m.topic.startsWith(`${prefix}/events/`))
      .map((m) => ({ topic: m.topic, envelope: JSON.parse(m.body) as Json, m }));
  /** Every event the outbox holds, as consumers get it. */
  const outbox = () => settledOutbox(t.app);
  const readiness = async () => (await t.http().get('/health/ready').expect(200)).body.details.mqtt as Json;

  beforeAll(async () => {
    proxy = await startTcpProxy(MQTT_BROKER);
    consumer = await mqttConsumer(`${prefix}/#`);
    db = await createTestDatabase();
    t = await startTestApp({ db, env: env() });
  });
  afterAll(async () => {
    await t?.close();
    await consumer?.close();
    await proxy?.close();
    await db?.drop();
  });

  it('publishes every event QoS 1, not retained, on <prefix>/events/<type>, exactly as the outbox holds it, in order', async () => {
    await eventually(async () => (await readiness()).state === 'connected', 'mqtt connected');
    await push(t, boxRecord({ device: 'cam-1', identity: 'p-1', timestamp: nextTime() }));
    await push(t, boxRecord({ device: 'cam-1', identity: 'bad-1', userType: 'blacklist', timestamp: nextTime() }));
    await push(t, boxRecord({ device: 'cam-2', identity: 'vip-1', userType: 'vip', timestamp: nextTime() }));
    const expected = await outbox();
    expect(expected.map((e) => e.type)).toEqual(expect.arrayContaining(['recognition.recorded', 'alert.blacklist-seen', 'alert.vip-seen']));
    await eventually(() => received().length >= expected.length, 'every event on MQTT');
    const got = received();
    expect(got.map((g) => g.envelope)).toEqual(expected);
    for (const g of got) {
      expect(g.topic).toBe(`${prefix}/events/${g.envelope.type as string}`);
      expect(g.m.retain).toBe(false);
      expect(g.m.qos).toBe(1);
    }
    expect(await readiness()).toEqual({ status: 'up', state: 'connected' });
    const metrics = (await t.http().get('/metrics').expect(200)).text;
    expect(metrics).not.toContain(PASSWORD);
    // Counted when the broker's acknowledgement reaches the hub, which may be after the consumer got the message.
    await eventually(
      async () =>
        sample((await t.http().get('/metrics').expect(200)).text, 'rh_broker_published_total', { broker: 'mqtt' }) === expected.length,
      'published count',
    );
    expect(sample(metrics, 'rh_broker_connected', { broker: 'mqtt' })).toBe(1);
    await eventually(
      async () => sample((await t.http().get('/metrics').expect(200)).text, 'rh_broker_lag_events', { broker: 'mqtt' }) === 0,
      'no lag',
    );
  });

  it('keeps retained availability and the latest person per camera, without images', async () => {
    const first = await eventually(
      () => received().find((g) => g.envelope.type === 'recognition.recorded' && (g.envelope.data as Json).identityExternalId === 'p-1'),
      'p-1 event',
    );
    const cam1 = (first.envelope.data as Json).mediaDeviceId as string;
    // A later sighting replaces the state; a late record (older box time) does not.
    await push(t, boxRecord({ device: 'cam-1', identity: 'p-2', timestamp: nextTime() }));
    await push(t, boxRecord({ device: 'cam-1', identity: 'p-old', timestamp: T - 60_000 }));
    const total = (await outbox()).length;
    await eventually(() => received().length >= total, 'the new events');

    expect((await retained(`${prefix}/availability`)).get(`${prefix}/availability`)).toBe('online');
    const cameras = await retained(`${prefix}/cameras/+/last`);
    expect(cameras.size).toBe(2);
    const last = JSON.parse(cameras.get(`${prefix}/cameras/${cam1}/last`)!) as Json;
    expect(last).toMatchObject({ mediaDeviceId: cam1, deviceExternalId: 'cam-1', identityExternalId: 'p-2', userType: 'employee' });
    expect(Object.keys(last).sort()).toEqual(
      [
        'boxId',
        'deviceExternalId',
        'eventId',
        'identityExternalId',
        'identityId',
        'identityName',
        'mediaDeviceId',
        'occurredAt',
        'recordId',
        'score',
        'timestamp',
        'userType',
      ].sort(),
    );
    expect(longBase64Strings(last)).toEqual([]);
  });

  it('loses nothing when the broker goes away during ingest, and keeps order', async () => {
    const before = (await outbox()).length;
    await push(t, boxRecord({ identity: 'o-1', timestamp: nextTime() }));
    await proxy.refuse();
    // Readiness does not depend on the broker; it says the broker is away.
    await eventually(async () => (await readiness()).state !== 'connected', 'mqtt reported away');
    for (let i = 2; i <= 6; i++)
      await push(t, boxRecord({ identity: `o-${i}`, userType: i === 4 ? 'blacklist' : 'employee', timestamp: nextTime() }));
    await new Promise((r) => setTimeout(r, 500));
    await proxy.restore();
    await push(t, boxRecord({ identity: 'o-7', timestamp: nextTime() }));

    const expected = await outbox();
    expect(expected.length).toBeGreaterThanOrEqual(before + 8);
    await eventually(() => new Set(received().map((g) => g.envelope.id)).size >= expected.length, 'every event after the outage', 30_000);
    // At least once: a batch cut off before its PUBACK may come twice, but each first arrival is in outbox order.
    expect(firstArrivals(received().map((g) => g.envelope))).toEqual(expected);
    // The will told subscribers the hub went away; it said online again on reconnecting.
    const availability = consumer.messages.filter((m) => m.topic === `${prefix}/availability`).map((m) => m.body);
    expect(availability.slice(-2)).toEqual(['offline', 'online']);
    await eventually(async () => (await readiness()).state === 'connected', 'mqtt connected again');
  });

  it('moves its cursor only on PUBACKs: a broker gone silent gets the unacknowledged batch again after reconnecting', async () => {
    const ownPrefix = `${prefix}-silent`;
    const own = await mqttConsumer(`${ownPrefix}/#`);
    const quiet = await startTcpProxy(MQTT_BROKER);
    const app = await startTestApp({
      env: { ...env(), MQTT_URL: `mqtt://127.0.0.1:${quiet.port}`, MQTT_TOPIC_PREFIX: ownPrefix, BROKER_PUBLISH_TIMEOUT_MS: '1000' },
    });
    const scrape = async () => (await app.http().get('/metrics').expect(200)).text;
    const events = () =>
      own.messages.filter((m) => m.topic.startsWith(`${ownPrefix}/events/`)).map((m) => ({ envelope: JSON.parse(m.body) as Json }));
    try {
      await eventually(
        async () => (await app.http().get('/health/ready').expect(200)).body.details.mqtt.state === 'connected',
        'mqtt connected',
      );
      // The connection stays open but nothing gets through: no PUBACK comes back.
      quiet.silence();
      for (let i = 1; i <= 3; i++) await push(app, boxRecord({ identity: `s-${i}`, timestamp: nextTime() }));
      await eventually(async () => sample(await scrape(), 'rh_broker_failed_total', { broker: 'mqtt' }) > 0, 'an unacknowledged batch');
      const expected = await settledOutbox(app.app);
      expect(sample(await scrape(), 'rh_broker_lag_events', { broker: 'mqtt' })).toBe(expected.length);
      expect(sample(await scrape(), 'rh_broker_published_total', { broker: 'mqtt' })).toBe(0);
      await quiet.restore();
      await eventually(() => new Set(events().map((g) => g.envelope.id)).size >= expected.length, 'every event once the broker answers');
      expect(firstArrivals(events().map((g) => g.envelope))).toEqual(expected);
      await eventually(async () => sample(await scrape(), 'rh_broker_lag_events', { broker: 'mqtt' }) === 0, 'caught up');
    } finally {
      await app.close();
      await own.close();
      await quiet.close();
    }
  });

  it('resumes where it stopped after a restart, and announces offline on graceful shutdown', async () => {
    await proxy.refuse();
    for (let i = 1; i <= 3; i++) await push(t, boxRecord({ identity: `r-${i}`, timestamp: nextTime() }));
    const expected = await outbox();
    await t.close();
    await proxy.restore();
    t = await startTestApp({ db, env: env() });
    await eventually(() => new Set(received().map((g) => g.envelope.id)).size >= expected.length, 'events written before the restart');
    expect(firstArrivals(received().map((g) => g.envelope))).toEqual(expected);

    // Shutdown publishes what it relays before disconnecting: an event committed just before is not left to the next start.
    await push(t, boxRecord({ identity: 'last-words', timestamp: nextTime() }));
    const all = await outbox();
    await t.close();
    await eventually(() => new Set(received().map((g) => g.envelope.id)).size >= all.length, 'the event written just before shutdown');
    expect((await retained(`${prefix}/availability`)).get(`${prefix}/availability`)).toBe('offline');
    t = await startTestApp({ db, env: env() });
  });

  it('keeps the newest sighting per camera across a restart: a late record then does not replace it either', async () => {
    await push(t, boxRecord({ device: 'cam-late', identity: 'fresh', timestamp: nextTime() }));
    const fresh = await eventually(
      () => received().find((g) => (g.envelope.data as Json | undefined)?.identityExternalId === 'fresh'),
      'the fresh sighting',
    );
    const topic = `${prefix}/cameras/${(fresh.envelope.data as Json).mediaDeviceId as string}/last`;
    await eventually(async () => (await retained(topic)).get(topic)?.includes('"fresh"'), 'fresh retained');
    // A new process knows nothing of what the previous one published.
    await t.close();
    t = await startTestApp({ db, env: env() });
    await push(t, boxRecord({ device: 'cam-late', identity: 'stale', timestamp: T - 120_000 }));
    await eventually(() => received().some((g) => (g.envelope.data as Json | undefined)?.identityExternalId === 'stale'), 'the late event');
    await push(t, boxRecord({ device: 'cam-other', identity: 'marker', timestamp: nextTime() }));
    // Retained messages of one publisher arrive in order: once the marker's camera state is there, so is any
    // state the late record would have set before it.
    await eventually(async () => [...(await retained(`${prefix}/cameras/+/last`)).values()].some((v) => v.includes('"marker"')), 'marker');
    expect(JSON.parse((await retained(topic)).get(topic)!)).toMatchObject({ identityExternalId: 'fresh' });
  });
});
