import { CALLBACK_PATH, readFixture, startTestApp, TestApp } from './helpers/test-app';
import { describeDb } from './helpers/test-database';
import { maskLicenseKey } from '../src/logging/redact';

/** Value of one sample in Prometheus text format (0 when absent). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[4]);
  }
  return 0;
}

describeDb('operations: health, metrics, request ids', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { OUTBOX_RELAY_ENABLED: 'false' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  const post = (body: unknown) => t.http().post(CALLBACK_PATH).set('content-type', 'application/json').send(body as object);
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

    const after = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}) => sample(after, name, labels) - sample(before, name, labels);
    expect(delta('rh_records_ingested_total', { box })).toBe(2);
    expect(delta('rh_records_duplicate_total', { box })).toBe(1);
    expect(delta('rh_records_defective_total', { box })).toBe(1);
    expect(delta('rh_records_refused_total', { box, status: '400' })).toBe(1);
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

  it('gives every response a request id, keeping a sane one from the caller', async () => {
    const fresh = await t.http().get('/health/live').expect(200);
    expect(fresh.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const kept = await t.http().get('/health/live').set('X-Request-Id', 'lb-1234.abc').expect(200);
    expect(kept.headers['x-request-id']).toBe('lb-1234.abc');
    const replaced = await t.http().get('/health/live').set('X-Request-Id', 'x'.repeat(500)).expect(200);
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});
