import { boxRecord, createApiKey, push } from './helpers/api-client';
import { startTestApp, TestApp } from './helpers/test-app';
import { describeDb } from './helpers/test-database';

describeDb('REST API rate limit and security headers', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { API_RATE_LIMIT_PER_MINUTE: '5' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers 429 with Retry-After past the per-key limit, without affecting other keys', async () => {
    const a = await createApiKey(t, 'reader', 'busy');
    const b = await createApiKey(t, 'reader', 'quiet');
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await t.http().get('/records').set('X-API-Key', a.key)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const limited = await t.http().get('/records').set('X-API-Key', a.key);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.body).toMatchObject({ statusCode: 429 });
    expect((await t.http().get('/records').set('X-API-Key', b.key)).status).toBe(200);
  });

  it('never rate-limits box pushes', async () => {
    for (let i = 0; i < 12; i++) await push(t, boxRecord({ timestamp: 1700009000000 + i }));
  });

  it('counts requests without a key per address before refusing them, and never limits probes or scrapers', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await t.http().get('/boxes')).status);
    // The rate limit runs before the key check, so a caller without a key is limited too.
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    for (let i = 0; i < 12; i++) {
      expect((await t.http().get('/health/live')).status).toBe(200);
      expect((await t.http().get('/metrics')).status).toBe(200);
    }
  });

  it('sends helmet security headers, and /docs loads no inline script the policy would block', async () => {
    const res = await t.http().get('/docs/');
    expect(res.status).toBe(200);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    const inlineScripts = [...res.text.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)].filter((m) => m[1].trim());
    expect(inlineScripts).toEqual([]);
    // Swagger UI previews images through blob: URLs; only the /docs page allows them.
    expect(res.headers['content-security-policy']).toMatch(/img-src 'self' data: blob:/);
    const api = await t.http().get('/health/live');
    expect(api.headers['content-security-policy']).toMatch(/img-src 'self' data:;/);
  });
});
