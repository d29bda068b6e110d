import { createHmac, randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { boxRecord, createApiKey, Json, longBase64Strings, push } from './helpers/api-client';
import { startTestApp, TestApp } from './helpers/test-app';
import { describeDb } from './helpers/test-database';
import { eventually } from './helpers/eventually';
import { sample } from './helpers/prometheus';
import { WebhookSubscription } from '../src/integrations/webhooks/entities/webhook-subscription.entity';

const T = 1_710_000_000_000;

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A real HTTP receiver on 127.0.0.1: records every request; each path answers as its handler says. */
class Receiver {
  readonly requests: Received[] = [];
  private readonly handlers = new Map<string, (r: Received, nth: number) => number | Promise<number>>();
  private server!: http.Server;
  url = '';

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const r: Received = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
        this.requests.push(r);
        const nth = this.at(r.path).length;
        void Promise.resolve((this.handlers.get(r.path) ?? (() => 200))(r, nth)).then((status) => {
          res.statusCode = status;
          res.end('ok');
        });
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  on(path: string, handler: (r: Received, nth: number) => number | Promise<number>): string {
    this.handlers.set(path, handler);
    return this.url + path;
  }

  at(path: string): Received[] {
    return this.requests.filter((r) => r.path === path);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/** Independent Standard Webhooks verification with node:crypto. */
function verify(secret: string, r: Received): boolean {
  const id = r.headers['webhook-id'] as string;
  const ts = r.headers['webhook-timestamp'] as string;
  const expected = createHmac('sha256', Buffer.from(secret.replace(/^whsec_/, ''), 'base64'))
    .update(`${id}.${ts}.${r.body}`)
    .digest('base64');
  return String(r.headers['webhook-signature'])
    .split(' ')
    .some((s) => s === `v1,${expected}`);
}

describeDb('integrations: signed outbound webhooks', () => {
  let t: TestApp;
  let admin: string;
  let reader: string;
  const rx = new Receiver();
  let seq = 0;
  const nextTime = () => T + ++seq * 1000;

  beforeAll(async () => {
    await rx.start();
    t = await startTestApp({
      env: {
        WEBHOOK_POLL_INTERVAL_MS: '50',
        WEBHOOK_BACKOFF_BASE_MS: '40',
        WEBHOOK_MAX_BACKOFF_MS: '200',
        WEBHOOK_MAX_ATTEMPTS: '3',
        WEBHOOK_TIMEOUT_MS: '3000',
        PUBLIC_BASE_URL: 'https://hub.example.com',
      },
    });
    admin = (await createApiKey(t, 'admin')).key;
    reader = (await createApiKey(t, 'reader')).key;
  });
  afterAll(async () => {
    await t?.close();
    await rx.stop();
  });

  const api = {
    subscribe: async (body: Json) =>
      (await t.http().post('/webhooks/subscriptions').set('x-api-key', admin).send(body).expect(201)).body as Json,
    deliveries: async (subId: string) =>
      (
        (await t.http().get(`/webhooks/subscriptions/${subId}/deliveries?limit=500`).set('x-api-key', admin).expect(200)).body
          .items as Json[]
      ).reverse(),
    delivery: async (id: string) => (await t.http().get(`/webhooks/deliveries/${id}`).set('x-api-key', admin).expect(200)).body as Json,
    remove: async (subId: string) => t.http().delete(`/webhooks/subscriptions/${subId}`).set('x-api-key', admin).expect(204),
    get: async (subId: string) => (await t.http().get(`/webhooks/subscriptions/${subId}`).set('x-api-key', admin).expect(200)).body as Json,
  };
  const webhookIds = (path: string) => rx.at(path).map((r) => r.headers['webhook-id'] as string);
  const eventIds = (path: string) => rx.at(path).map((r) => Number(JSON.parse(r.body).id));

  it('manages subscriptions over REST for admins, showing the secret only once', async () => {
    const created = await api.subscribe({ url: rx.on('/crud', () => 200), eventTypes: ['alert.blacklist-seen'], description: 'desk' });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from((created.secret as string).slice(6), 'base64').length).toBe(32);
    const list = (await t.http().get('/webhooks/subscriptions').set('x-api-key', admin).expect(200)).body as Json[];
    expect(list.find((s) => s.id === created.id)).toEqual({
      id: created.id,
      url: created.url,
      eventTypes: ['alert.blacklist-seen'],
      description: 'desk',
      enabled: true,
      createdAt: created.createdAt,
      updatedAt: created.updatedAt,
    });
    expect(JSON.stringify(list)).not.toContain(created.secret);
    const patched = await t
      .http()
      .patch(`/webhooks/subscriptions/${created.id}`)
      .set('x-api-key', admin)
      .send({ enabled: false })
      .expect(200);
    expect(patched.body.enabled).toBe(false);
    expect(patched.body.secret).toBeUndefined();

    const bad = (body: Json) => t.http().post('/webhooks/subscriptions').set('x-api-key', admin).send(body).expect(400);
    expect((await bad({ url: 'ftp://x.example.com/', eventTypes: ['*'] })).body.field).toBe('url');
    expect((await bad({ url: 'http://127.0.0.1/x', eventTypes: ['no.such-type'] })).body.field).toBe('eventTypes');
    expect((await bad({ url: 'http://127.0.0.1/x', eventTypes: [] })).body.field).toBe('eventTypes');
    expect((await bad({ url: 'http://127.0.0.1/x', eventTypes: ['*'], secret: 'plain' })).body.field).toBe('secret');
    // Link-local and cloud metadata addresses are refused by default, also IPv4-mapped or on update.
    for (const url of [
      'http://169.254.169.254/latest/meta-data/',
      'http://[fe80::1]:8080/',
      'http://[::ffff:169.254.169.254]/',
      'http://100.100.100.200/',
    ]) {
      const refused = await bad({ url, eventTypes: ['*'] });
      expect(refused.body).toMatchObject({ field: 'url', message: expect.stringMatching(/outside WEBHOOK_ALLOWED_NETWORKS/) });
    }
    const update = await t
      .http()
      .patch(`/webhooks/subscriptions/${created.id}`)
      .set('x-api-key', admin)
      .send({ url: 'http://169.254.169.254/' })
      .expect(400);
    expect(update.body.field).toBe('url');
    expect((await api.get(created.id as string)).url).toBe(created.url);
    await t
      .http()
      .post('/webhooks/subscriptions')
      .set('x-api-key', reader)
      .send({ url: 'http://127.0.0.1/x', eventTypes: ['*'] })
      .expect(403);
    await t.http().get('/webhooks/subscriptions').expect(401);
    await t.http().get('/webhooks/subscriptions/00000000-0000-4000-8000-000000000000').set('x-api-key', admin).expect(404);
    await api.remove(created.id as string);
  });

  it('signs each delivery per Standard Webhooks and references images by URL', async () => {
    const secret = 'whsec_' + Buffer.alloc(32, 7).toString('base64');
    const sub = await api.subscribe({
      url: rx.on('/signed', () => 200),
      eventTypes: ['recognition.recorded', 'alert.blacklist-seen'],
      secret,
    });
    expect(sub.secret).toBe(secret);
    await push(t, boxRecord({ box: 'BOX-W', userType: 'blacklist', identity: 'bad-1', timestamp: nextTime(), withImages: true }));

    await eventually(() => rx.at('/signed').length >= 2, 'two signed deliveries');
    const got = rx.at('/signed');
    expect(got).toHaveLength(2);
    for (const r of got) {
      expect(verify(secret, r)).toBe(true);
      expect(verify('whsec_' + Buffer.alloc(32, 8).toString('base64'), r)).toBe(false);
      expect(Math.abs(Number(r.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(300);
      expect(r.headers['content-type']).toBe('application/json');
      expect(longBase64Strings(JSON.parse(r.body))).toEqual([]);
    }
    const bodies = got.map((r) => JSON.parse(r.body) as Json);
    expect(bodies.map((b) => b.type)).toEqual(['recognition.recorded', 'alert.blacklist-seen']);
    const data = bodies[0].data as Json;
    expect(data).toMatchObject({ licenseKey: 'BOX-W', userType: 'blacklist', identityExternalId: 'bad-1' });
    const images = data.images as Record<string, string>;
    expect(Object.keys(images).length).toBeGreaterThan(0);
    for (const [role, url] of Object.entries(images)) expect(url).toBe(`https://hub.example.com/records/${data.recordId}/images/${role}`);
    // The delivery log says the same, once the dispatcher has recorded the answers it got.
    const log = await eventually(async () => {
      const items = await api.deliveries(sub.id as string);
      return items.every((d) => d.status === 'succeeded') && items;
    }, 'both deliveries recorded');
    expect(log.map((d) => [d.eventType, d.status, d.attempts, d.lastStatusCode])).toEqual([
      ['recognition.recorded', 'succeeded', 1, 200],
      ['alert.blacklist-seen', 'succeeded', 1, 200],
    ]);
    expect(webhookIds('/signed')).toEqual(log.map((d) => d.id));
    await api.remove(sub.id as string);
  });

  it('retries with backoff until the receiver accepts, then stops, recording every attempt', async () => {
    const sub = await api.subscribe({ url: rx.on('/flaky', (_r, nth) => (nth <= 2 ? 500 : 200)), eventTypes: ['recognition.recorded'] });
    await push(t, boxRecord({ box: 'BOX-R', timestamp: nextTime() }));

    const [d] = await eventually(async () => {
      const items = await api.deliveries(sub.id as string);
      return items.length === 1 && items[0].status === 'succeeded' && items;
    }, 'the delivery to succeed');
    const detail = await api.delivery(d.id as string);
    expect(detail).toMatchObject({ status: 'succeeded', attempts: 3, lastStatusCode: 200, lastError: null, nextAttemptAt: null });
    const attempts = detail.attemptLog as Json[];
    expect(attempts.map((a) => [a.attempt, a.statusCode, a.succeeded])).toEqual([
      [1, 500, false],
      [2, 500, false],
      [3, 200, true],
    ]);
    expect(attempts[0].error).toMatch(/500/);
    for (const a of attempts) expect(typeof a.durationMs).toBe('number');
    // Backoff: each retry waited at least the configured delay (40 ms, then 80 ms) after the failure.
    expect((attempts[1].startedAt as number) - (attempts[0].startedAt as number)).toBeGreaterThanOrEqual(40);
    expect((attempts[2].startedAt as number) - (attempts[1].startedAt as number)).toBeGreaterThanOrEqual(80);
    // Every attempt carried the same message id and body.
    const sent = rx.at('/flaky');
    expect(new Set(sent.map((r) => r.headers['webhook-id']))).toEqual(new Set([d.id]));
    expect(new Set(sent.map((r) => r.body)).size).toBe(1);
    // Stopped on success: more dispatcher polls send nothing further.
    await new Promise((r) => setTimeout(r, 300));
    expect(rx.at('/flaky')).toHaveLength(3);
    await api.remove(sub.id as string);
  });

  it('keeps order per subscription, and a hanging, then failing subscriber delays neither ingest nor others', async () => {
    // The first request to /stuck hangs until released, then fails with 503; later ones succeed.
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const stuck = await api.subscribe({
      url: rx.on('/stuck', async (_r, nth) => (nth === 1 ? (await released, 503) : 200)),
      eventTypes: ['recognition.recorded'],
    });
    const healthy = await api.subscribe({ url: rx.on('/healthy', () => 200), eventTypes: ['recognition.recorded'] });
    const times = [nextTime(), nextTime(), nextTime(), nextTime()];
    // Ingest answers while the first delivery to /stuck hangs.
    for (const ts of times) await push(t, boxRecord({ box: 'BOX-O', timestamp: ts }));

    await eventually(() => rx.at('/healthy').length >= 4 && rx.at('/stuck').length >= 1, 'the healthy subscriber to get every event');
    const order = eventIds('/healthy');
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(rx.at('/healthy').map((r) => JSON.parse(r.body).data.occurredAt)).toEqual(times);
    const stuckLog = await api.deliveries(stuck.id as string);
    expect(stuckLog.map((d) => [d.status, d.attempts])).toEqual([
      ['pending', 0],
      ['pending', 0],
      ['pending', 0],
      ['pending', 0],
    ]);
    expect(eventIds('/stuck')).toEqual([order[0]]); // nothing overtakes the head

    release();
    await eventually(
      async () => (await api.deliveries(stuck.id as string)).every((d) => d.status === 'succeeded'),
      'the stuck subscriber to catch up',
    );
    // The head was retried after its 503, and the rest followed in event order, one after another.
    expect(eventIds('/stuck')).toEqual([order[0], order[0], order[1], order[2], order[3]]);
    const head = await api.delivery(stuckLog[0].id as string);
    expect((head.attemptLog as Json[]).map((a) => a.statusCode)).toEqual([503, 200]);
    await api.remove(stuck.id as string);
    await api.remove(healthy.id as string);
  });

  it('abandons a delivery after the maximum attempts and moves on to the next', async () => {
    const sub = await api.subscribe({ url: rx.on('/dead', () => 500), eventTypes: ['recognition.recorded'] });
    await push(t, boxRecord({ box: 'BOX-D', timestamp: nextTime() }));
    await push(t, boxRecord({ box: 'BOX-D', timestamp: nextTime() }));
    const log = await eventually(async () => {
      const items = await api.deliveries(sub.id as string);
      return items.length === 2 && items.every((d) => d.status === 'failed') && items;
    }, 'both deliveries to be abandoned');
    expect(log.map((d) => [d.attempts, d.lastStatusCode])).toEqual([
      [3, 500],
      [3, 500],
    ]);
    const first = Number(log[0].eventId);
    const second = Number(log[1].eventId);
    expect(eventIds('/dead')).toEqual([first, first, first, second, second, second]);
    const metrics = (await t.http().get('/metrics').expect(200)).text;
    expect(sample(metrics, 'rh_webhook_failed_deliveries', { subscription: sub.id as string })).toBe(2);
    expect(sample(metrics, 'rh_webhook_pending_deliveries', { subscription: sub.id as string })).toBe(0);
    await api.remove(sub.id as string);
  });
});

describeDb('integrations: webhooks stay inside WEBHOOK_ALLOWED_NETWORKS', () => {
  let t: TestApp;
  let admin: string;
  const rx = new Receiver();

  beforeAll(async () => {
    await rx.start();
    t = await startTestApp({
      env: {
        // Loopback refused here, so the receiver on 127.0.0.1 plays an address the operator has closed.
        WEBHOOK_ALLOWED_NETWORKS: '!127.0.0.0/8,!::1,0.0.0.0/0,::/0',
        WEBHOOK_DISPATCH_ENABLED: 'true',
        WEBHOOK_POLL_INTERVAL_MS: '50',
        WEBHOOK_BACKOFF_BASE_MS: '40',
        WEBHOOK_MAX_BACKOFF_MS: '100',
        WEBHOOK_MAX_ATTEMPTS: '2',
      },
    });
    admin = (await createApiKey(t, 'admin')).key;
  });
  afterAll(async () => {
    await t?.close();
    await rx.stop();
  });

  it('refuses a configured network on create, and at delivery a name that resolves into it or an address that is in it', async () => {
    const port = new URL(rx.url).port;
    for (const url of [`http://127.0.0.1:${port}/x`, `http://localhost:${port}/x`]) {
      const res = await t
        .http()
        .post('/webhooks/subscriptions')
        .set('x-api-key', admin)
        .send({ url, eventTypes: ['*'] })
        .expect(400);
      expect(res.body).toMatchObject({ field: 'url', message: expect.stringMatching(/outside WEBHOOK_ALLOWED_NETWORKS/) });
    }
    // Subscriptions made before the name (or the setting) changed: the check at connection time stops them.
    const now = Date.now();
    const subs = [`http://localhost:${port}/by-name`, `http://127.0.0.1:${port}/by-address`].map((url) => ({
      id: randomUUID(),
      url,
      eventTypes: ['*'],
      secret: 'whsec_' + Buffer.alloc(32, 1).toString('base64'),
      description: null,
      enabled: true,
      startAfterEventId: 0,
      createdAt: now,
      updatedAt: now,
    }));
    // One by one: a multi-row insert lets TypeORM write generated values back onto the wrong objects on SQLite.
    for (const sub of subs) await t.dataSource.getRepository(WebhookSubscription).insert({ ...sub });
    await push(t, boxRecord({ box: 'BOX-N', timestamp: T }));

    for (const [sub, error] of [
      [subs[0], /^localhost \(.*127\.0\.0\.1.*\) is outside WEBHOOK_ALLOWED_NETWORKS$/],
      [subs[1], /^127\.0\.0\.1 is outside WEBHOOK_ALLOWED_NETWORKS$/],
    ] as const) {
      const [d] = await eventually(async () => {
        const res = await t.http().get(`/webhooks/subscriptions/${sub.id}/deliveries`).set('x-api-key', admin).expect(200);
        const items = res.body.items as Json[];
        return items.length > 0 && items.every((i) => i.status === 'failed') && items;
      }, `deliveries to ${sub.url} to be abandoned`);
      expect(d.lastError).toMatch(error);
      const detail = (await t.http().get(`/webhooks/deliveries/${d.id}`).set('x-api-key', admin).expect(200)).body as Json;
      expect((detail.attemptLog as Json[]).map((a) => [a.statusCode, a.succeeded])).toEqual([
        [null, false],
        [null, false],
      ]);
    }
    expect(rx.requests).toEqual([]);
  });
});
