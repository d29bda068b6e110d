import { CALLBACK_PATH, readFixture, startTestApp, TestApp } from './helpers/test-app';
import { describeDb } from './helpers/test-database';
import { maskLicenseKey } from '../src/logging/redact';
import { randomBytes, randomUUID } from 'node:crypto';
import { sample, seriesOf } from './helpers/prometheus';

describeDb('operations: health, metrics, request ids', () => {
  let t: TestApp;

  beforeAll(async () => {
    // Auth-failure limiting off: one test sends 500 refused pushes from one address on purpose.
    t = await startTestApp({ env: { OUTBOX_RELAY_ENABLED: 'false', BOX_AUTH_FAILURES_PER_MINUTE: '0' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  const post = (body: unknown) =>
    t
      .http()
      .post(CALLBACK_PATH)
      .set('content-type', 'application/json')
      .send(body as object);
  const scrape = async () => {
    const res = await t.http().get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    return res.text;
  };

  it('answers liveness and readiness without an API key', async () => {
    await t.http().get('/health/live').expect(200, { status: 'ok', info: {}, error: {}, details: {} });
    const ready = await t.http().get('/health/ready').expect(200);
    expect(ready.body.status).toBe('ok');
    for (const k of ['lifecycle', 'database', 'imageStore', 'outbox']) expect(ready.body.details[k].status).toBe('up');
  });

  it('moves ingested, duplicate, defective, refused, latency, outbox and last-seen metrics as records arrive', async () => {
    const record = readFixture('small/000000.json');
    const key = String(record.mq_license_key);
    const box = maskLicenseKey(key);
    const before = await scrape();

    await post(record).expect(200);
    await post(record).expect(200); // the box's retry
    await post({ ...record, timestamp: Number(record.timestamp) + 1, spot_image: 'not base64!' }).expect(200);
    await post({ ...record, timestamp: 'yesterday' }).expect(400);
    // Refused before the hub knows the box (the body could name any key): counted for box="unknown".

    const after = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}) => sample(after, name, labels) - sample(before, name, labels);
    expect(delta('rh_records_ingested_total', { box })).toBe(2);
    expect(delta('rh_records_duplicate_total', { box })).toBe(1);
    expect(delta('rh_records_defective_total', { box })).toBe(1);
    expect(delta('rh_records_refused_total', { box, status: '400' })).toBe(0);
    expect(delta('rh_records_refused_total', { box: 'unknown', status: '400' })).toBe(1);
    expect(delta('rh_ingest_duration_seconds_count', { status: '200' })).toBe(3);
    expect(delta('rh_ingest_duration_seconds_count', { status: '400' })).toBe(1);
    // The relay is off in this app, so the two new records' events wait in the outbox.
    expect(sample(after, 'rh_outbox_pending_events')).toBeGreaterThanOrEqual(2);
    expect(sample(after, 'rh_box_last_seen_timestamp_seconds', { box })).toBeGreaterThan(Date.now() / 1000 - 600);
    expect(after).not.toContain(key);

    await t.drainOutbox();
    expect(sample(await scrape(), 'rh_outbox_pending_events')).toBe(0);
  });

  it('counts a body that is not JSON as refused for an unknown box', async () => {
    const before = sample(await scrape(), 'rh_records_refused_total', { box: 'unknown', status: '400' });
    await t.http().post(CALLBACK_PATH).set('content-type', 'application/json').send('{not json').expect(400);
    expect(sample(await scrape(), 'rh_records_refused_total', { box: 'unknown', status: '400' })).toBe(before + 1);
  });

  it('labels refusals by box only for registered boxes: 1,000 pushes with random keys add no series', async () => {
    const record = readFixture('small/000000.json');
    await post({ ...record, mq_license_key: 'BOX-METRICS-KNOWN' }).expect(200);
    const before = await scrape();
    // A registered box refused after the access checks keeps its own label.
    await t
      .http()
      .post('/box-callbacks/not-its-token/recognition-records')
      .send({ ...record, mq_license_key: 'BOX-METRICS-KNOWN' })
      .expect(401);
    for (let i = 0; i < 1000; i++) {
      const key = `RND-${randomBytes(6).toString('hex')}`;
      // Half refused by validation, half by the access checks (a token URL for a box the hub does not know).
      if (i % 2 === 0) await post({ ...record, mq_license_key: key, timestamp: 'never' }).expect(400);
      else
        await t
          .http()
          .post(`/box-callbacks/${randomUUID()}/recognition-records`)
          .send({ ...record, mq_license_key: key })
          .expect(401);
    }
    const after = await scrape();
    const known = maskLicenseKey('BOX-METRICS-KNOWN');
    expect(sample(after, 'rh_records_refused_total', { box: known, status: '401' })).toBe(1);
    expect(
      sample(after, 'rh_records_refused_total', { box: 'unknown', status: '401' }) -
        sample(before, 'rh_records_refused_total', { box: 'unknown', status: '401' }),
    ).toBe(500);
    const added = [...seriesOf(after)].filter((s) => !seriesOf(before).has(s) && !s.startsWith('process_') && !s.startsWith('nodejs_'));
    // New series: the known box's 401, and box="unknown" with status 401 (the first such refusal) — no other box.
    expect(added.filter((s) => /box="/.test(s)).sort()).toEqual(
      [`rh_records_refused_total{box="${known}",status="401"}`, 'rh_records_refused_total{box="unknown",status="401"}'].sort(),
    );
  });

  it('counts REST requests and their latency by route pattern, never by raw path', async () => {
    const id = randomUUID();
    const probe = `probe-${randomBytes(4).toString('hex')}`;
    await t.http().get(`/records/${id}`).expect(401);
    await t.http().get(`/${probe}`).expect(404);
    const text = await scrape();
    expect(sample(text, 'rh_http_requests_total', { method: 'GET', route: '/records/:id', status: '401' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'rh_http_requests_total', { method: 'GET', route: 'unmatched', status: '404' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'rh_http_request_duration_seconds_count', { method: 'GET', route: '/records/:id' })).toBeGreaterThanOrEqual(1);
    expect(text).not.toContain(id);
    expect(text).not.toContain(probe);
    expect(text).toContain('rh_event_stream_connections 0');
  });

  it('gives every response a request id, keeping a sane one from the caller', async () => {
    const fresh = await t.http().get('/health/live').expect(200);
    expect(fresh.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const kept = await t.http().get('/health/live').set('X-Request-Id', 'lb-1234.abc').expect(200);
    expect(kept.headers['x-request-id']).toBe('lb-1234.abc');
    const replaced = await t.http().get('/health/live').set('X-Request-Id', 'x'.repeat(500)).expect(200);
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});
