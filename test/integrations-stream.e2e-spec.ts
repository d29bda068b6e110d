import type { AddressInfo } from 'node:net';
import { ApiKeysService } from '../src/auth/api-keys.service';
import { boxRecord, createApiKey, Json, longBase64Strings, push } from './helpers/api-client';
import { startTestApp, TestApp } from './helpers/test-app';
import { describeDb } from './helpers/test-database';
import { eventually } from './helpers/eventually';
import { SseClient } from './helpers/sse-client';

const T = 1_720_000_000_000;

describeDb('integrations: live event stream (SSE)', () => {
  let t: TestApp;
  let base: string;
  let reader: string;
  const clients: SseClient[] = [];
  let seq = 0;
  const nextTime = () => T + ++seq * 1000;
  const env = { EVENT_STREAM_POLL_MS: '50', EVENT_STREAM_HEARTBEAT_MS: '200', WEBHOOK_DISPATCH_ENABLED: 'false' };

  const listen = async (app: TestApp): Promise<string> => {
    await app.app.listen(0, '127.0.0.1');
    return `http://127.0.0.1:${(app.app.getHttpServer().address() as AddressInfo).port}`;
  };
  const open = async (path: string, headers: Record<string, string> = {}, url = base) => {
    const c = await SseClient.open(url, path, { 'x-api-key': reader, ...headers });
    clients.push(c);
    return c;
  };
  /** Outbox ids of a record's events, straight from the database. */
  const outboxIdsSince = async (after: number, type?: string): Promise<number[]> => {
    const pg = t.db.kind === 'postgres';
    const rows: { id: number | string }[] = await t.dataSource.query(
      `SELECT id FROM outbox_events WHERE id > ${pg ? '$1' : '?'} ${type ? `AND type = ${pg ? '$2' : '?'}` : ''} ORDER BY id`,
      type ? [after, type] : [after],
    );
    return rows.map((r) => Number(r.id));
  };

  beforeAll(async () => {
    t = await startTestApp({ env });
    reader = (await createApiKey(t, 'reader')).key;
    base = await listen(t);
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('refuses unauthenticated consumers and bad filters with a JSON error naming the field', async () => {
    await t.http().get('/events/stream').expect(401);
    const bad = async (path: string, headers: Record<string, string> = {}) =>
      (await t.http().get(path).set('x-api-key', reader).set(headers).expect(400)).body.field;
    expect(await bad('/events/stream?type=no.such-event')).toBe('type');
    expect(await bad('/events/stream?colour=red')).toBe('colour');
    expect(await bad('/events/stream', { 'Last-Event-ID': 'abc' })).toBe('Last-Event-ID');
  });

  it('streams new events live, with ids and image URLs only, and heartbeat comments', async () => {
    const c = await open('/events/stream');
    expect(c.status).toBe(200);
    const before = Math.max(0, ...(await outboxIdsSince(0)));
    await push(t, boxRecord({ box: 'BOX-L', userType: 'blacklist', identity: 'bl-1', timestamp: nextTime(), withImages: true }));
    await t.drainOutbox(); // the default "Blacklist seen" rule raises its alert when the relay runs
    const expected = await outboxIdsSince(before);
    await eventually(() => c.events.length >= expected.length, 'live events');
    expect(c.events.map((e) => e.id)).toEqual(expected);
    expect(c.events.map((e) => e.event)).toEqual(['recognition.recorded', 'alert.blacklist-seen', 'alert.raised']);
    for (const e of c.events) {
      expect(e.data).toMatchObject({ id: String(e.id), type: e.event });
      expect(longBase64Strings(e.data)).toEqual([]);
    }
    const data = c.events[0].data.data as Json;
    expect(data).toMatchObject({ licenseKey: 'BOX-L', userType: 'blacklist' });
    expect(Object.values(data.images as Json).length).toBeGreaterThan(0);
    for (const url of Object.values(data.images as Json)) expect(url).toMatch(new RegExp(`^/records/${data.recordId}/images/\\w+$`));
    await eventually(() => c.comments.includes('keep-alive'), 'a heartbeat comment');
  });

  it('resumes after Last-Event-ID with exactly the missed events matching the filter, then continues live', async () => {
    const first = await open('/events/stream?type=recognition.recorded');
    await push(t, boxRecord({ box: 'BOX-S', timestamp: nextTime() }));
    await push(t, boxRecord({ box: 'BOX-S', timestamp: nextTime() }));
    await eventually(() => first.events.length >= 2, 'the first two events');
    const lastSeen = first.events[first.events.length - 1].id;
    first.close();

    // While disconnected: records of several kinds (each blacklist one also writes an alert event).
    const missedTimes = [nextTime(), nextTime(), nextTime()];
    await push(t, boxRecord({ box: 'BOX-S', timestamp: missedTimes[0] }));
    await push(t, boxRecord({ box: 'BOX-S', userType: 'blacklist', timestamp: missedTimes[1] }));
    await push(t, boxRecord({ box: 'BOX-T', userType: 'vip', timestamp: missedTimes[2] }));
    const missed = await outboxIdsSince(lastSeen, 'recognition.recorded');
    expect(missed).toHaveLength(3);

    const again = await open('/events/stream?type=recognition.recorded', { 'Last-Event-ID': String(lastSeen) });
    await eventually(() => again.events.length >= 3, 'the missed events');
    const liveTime = nextTime();
    await push(t, boxRecord({ box: 'BOX-S', timestamp: liveTime }));
    await eventually(() => again.events.length >= 4, 'the next live event');
    await new Promise((r) => setTimeout(r, 200)); // a few more polls: nothing repeated or extra
    expect(again.events.map((e) => e.id)).toEqual([...missed, ...(await outboxIdsSince(missed[2], 'recognition.recorded'))]);
    expect(again.events.map((e) => (e.data.data as Json).occurredAt)).toEqual([...missedTimes, liveTime]);
    expect(new Set(again.events.map((e) => e.event))).toEqual(new Set(['recognition.recorded']));
  });

  it('filters by box (license key or id) and user_type, in replay and live alike', async () => {
    const start = Math.max(0, ...(await outboxIdsSince(0)));
    await push(t, boxRecord({ box: 'BOX-F', userType: 'blacklist', identity: 'f-1', timestamp: nextTime() }));
    await push(t, boxRecord({ box: 'BOX-F', userType: 'employee', identity: 'f-2', timestamp: nextTime() }));
    await push(t, boxRecord({ box: 'BOX-G', userType: 'blacklist', identity: 'g-1', timestamp: nextTime() }));
    // alert.raised (from the default alert rules, written when the relay runs) is left out so the order is fixed.
    const types = 'type=recognition.recorded,alert.blacklist-seen,alert.vip-seen';
    const byKey = await open(`/events/stream?${types}&box=BOX-F&user_type=blacklist,vip&last_event_id=${start}`);
    await eventually(() => byKey.events.length >= 2, 'replayed matches');
    const boxId = (byKey.events[0].data.data as Json).boxId as string;
    const byId = await open(`/events/stream?${types}&box=${boxId}&user_type=blacklist`, { 'Last-Event-ID': String(start) });
    await eventually(() => byId.events.length >= 2, 'replayed matches by box id');

    await push(t, boxRecord({ box: 'BOX-G', userType: 'blacklist', identity: 'g-2', timestamp: nextTime() }));
    await push(t, boxRecord({ box: 'BOX-F', userType: 'vip', identity: 'f-3', timestamp: nextTime() }));
    await eventually(() => byKey.events.length >= 4, 'live matches');
    await new Promise((r) => setTimeout(r, 200));
    const summary = (c: SseClient) => c.events.map((e) => [e.event, (e.data.data as Json).identityExternalId]);
    expect(summary(byKey)).toEqual([
      ['recognition.recorded', 'f-1'],
      ['alert.blacklist-seen', 'f-1'],
      ['recognition.recorded', 'f-3'],
      ['alert.vip-seen', 'f-3'],
    ]);
    expect(summary(byId)).toEqual(summary(byKey).slice(0, 2));
  });

  it('replays a filtered stream past more non-matching events than one replay batch (500)', async () => {
    const start = Math.max(0, ...(await outboxIdsSince(0)));
    for (let p = 0; p < 6; p++) {
      const batch = Array.from({ length: 100 }, (_, i) => boxRecord({ box: 'BOX-NOISE', identity: `n-${p}-${i}`, timestamp: nextTime() }));
      await push(t, batch);
    }
    await push(t, boxRecord({ box: 'BOX-RARE', identity: 'rare-1', timestamp: nextTime() }));
    await eventually(async () => (await outboxIdsSince(start)).length > 600, 'noise written');
    const c = await open(`/events/stream?box=BOX-RARE&type=recognition.recorded`, { 'Last-Event-ID': String(start) });
    await eventually(() => c.events.length >= 1, 'the rare box replayed');
    expect(c.events.map((e) => (e.data.data as Json).identityExternalId)).toEqual(['rare-1']);
  });

  it('opens a stream with a short-lived token instead of a key header, with the filters and role bound to it', async () => {
    const issued = await t
      .http()
      .post('/events/stream-tokens')
      .set('x-api-key', reader)
      .send({ type: ['alert.vip-seen'], ttlSeconds: 60 })
      .expect(201);
    expect(issued.body.token).toMatch(/^rhst_/);
    expect(issued.body.expiresAt).toBeGreaterThan(Date.now() + 50_000);
    expect(issued.body.streamUrl).toBe(`/events/stream?token=${issued.body.token}`);
    // The token is stored hashed only.
    expect(JSON.stringify(await t.dataSource.query('SELECT * FROM event_stream_tokens'))).not.toContain(issued.body.token);

    const c = await SseClient.open(base, issued.body.streamUrl, {});
    clients.push(c);
    expect(c.status).toBe(200);
    await push(t, boxRecord({ box: 'BOX-TOK', userType: 'employee', identity: 'tok-1', timestamp: nextTime() }));
    await push(t, boxRecord({ box: 'BOX-TOK', userType: 'vip', identity: 'tok-2', timestamp: nextTime() }));
    await eventually(() => c.events.length >= 1, 'the vip alert through the token stream');
    expect(c.events.map((e) => e.event)).toEqual(['alert.vip-seen']);

    const status = async (path: string, headers: Record<string, string> = {}) => {
      const r = await SseClient.open(base, path, headers);
      r.close();
      return r.status;
    };
    // Filters come from the token; a key and a token together, or a bad token, are refused.
    expect((await t.http().get(`${issued.body.streamUrl}&type=recognition.recorded`).expect(400)).body.field).toBe('token');
    expect((await t.http().get(issued.body.streamUrl).set('x-api-key', reader).expect(400)).body.field).toBe('token');
    expect((await t.http().get('/events/stream?token=rhst_not-a-token').expect(401)).body.field).toBe('token');
    expect((await t.http().post('/events/stream-tokens').send({}).expect(401)).body.field).toBe('X-API-Key');
    expect((await t.http().post('/events/stream-tokens').set('x-api-key', reader).send({ ttlSeconds: 99999 }).expect(400)).body.field).toBe(
      'ttlSeconds',
    );

    // Revoking the key ends its tokens; an expired token opens nothing.
    const temp = await createApiKey(t, 'reader', 'temporary');
    const short = (await t.http().post('/events/stream-tokens').set('x-api-key', temp.key).send({ ttlSeconds: 10 }).expect(201)).body
      .token as string;
    expect(await status(`/events/stream?token=${short}`)).toBe(200);
    await t.app.get(ApiKeysService).revoke(temp.id, 'test');
    expect(await status(`/events/stream?token=${short}`)).toBe(401);
    await t.dataSource.query(`UPDATE event_stream_tokens SET expires_at = 1`);
    expect(await status(issued.body.streamUrl)).toBe(401);
  });

  it('refuses a Last-Event-ID beyond the newest event instead of waiting silently', async () => {
    const newest = Math.max(...(await outboxIdsSince(0)));
    const res = await t
      .http()
      .get('/events/stream')
      .set('x-api-key', reader)
      .set('Last-Event-ID', String(newest + 1000))
      .expect(400);
    expect(res.body.field).toBe('Last-Event-ID');
    expect(res.body.message).toContain(String(newest));
    const resumed = await open('/events/stream', { 'Last-Event-ID': String(newest) });
    expect(resumed.status).toBe(200);
  });

  it('delivers events committed by another instance sharing the database, and ends streams on shutdown', async () => {
    // A second instance (no relay of its own) streams; records arrive through the first one.
    // A long shutdown timeout: a stream that kept the server open would make close() hang past the test timeout.
    const other = await startTestApp({ db: t.db, env: { ...env, OUTBOX_RELAY_ENABLED: 'false', SHUTDOWN_TIMEOUT_MS: '120000' } });
    let closed = false;
    try {
      const otherBase = await listen(other);
      const c = await open('/events/stream?type=recognition.recorded', {}, otherBase);
      const ts = nextTime();
      await push(t, boxRecord({ box: 'BOX-M', timestamp: ts }));
      await eventually(() => c.events.length >= 1, 'the event on the other instance');
      expect((c.events[0].data.data as Json).occurredAt).toBe(ts);
      await other.app.close();
      closed = true;
      await eventually(() => c.ended, 'the stream to end');
    } finally {
      if (!closed) await other.app.close();
    }
  });
});
