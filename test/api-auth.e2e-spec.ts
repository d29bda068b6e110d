import { createHash } from 'node:crypto';
import { runApiKeyCli } from '../src/auth/api-key.cli';
import { boxRecord, createApiKey, Json, push } from './helpers/api-client';
import { startTestApp, TestApp } from './helpers/test-app';
import { describeDb } from './helpers/test-database';

const BOOTSTRAP_ADMIN = 'bootstrap-admin-key-for-tests-0123456789';
const ZERO = '00000000-0000-4000-8000-000000000000';

describeDb('REST API: API keys, roles and OpenAPI', () => {
  let t: TestApp;
  let keys: Record<'reader' | 'biometric-reader' | 'admin', string>;

  beforeAll(async () => {
    t = await startTestApp({ env: { ADMIN_API_KEY: BOOTSTRAP_ADMIN } });
    keys = {
      reader: (await createApiKey(t, 'reader')).key,
      'biometric-reader': (await createApiKey(t, 'biometric-reader')).key,
      admin: (await createApiKey(t, 'admin')).key,
    };
    await push(t, boxRecord({ timestamp: 1_700_000_000_000, withImages: true }));
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers 401 without a key, with an unknown key, or with a malformed Authorization header', async () => {
    for (const path of ['/records', '/records/export.csv', '/identities', '/boxes', '/api-keys', '/audit-log']) {
      const res = await t.http().get(path).expect(401);
      expect(res.body).toMatchObject({ statusCode: 401, field: 'X-API-Key' });
    }
    await t.http().get('/records').set('x-api-key', 'rhk_not-a-real-key').expect(401);
    await t.http().get('/records').set('authorization', `Basic ${keys.reader}`).expect(401);
    await t.http().get('/records').set('authorization', `Bearer ${keys.reader}`).expect(200);
  });

  it('enforces each role boundary (reader < biometric-reader < admin)', async () => {
    const [record] = (await t.http().get('/records').set('x-api-key', keys.reader).expect(200)).body.items as Json[];
    const [identity] = (await t.http().get('/identities').set('x-api-key', keys.reader).expect(200)).body.items as Json[];
    const requests: [string, (k: string) => Promise<{ status: number }>, 'reader' | 'biometric-reader' | 'admin'][] = [
      ['GET /records/:id', (k) => t.http().get(`/records/${record.id}`).set('x-api-key', k), 'reader'],
      ['GET /boxes/:id', (k) => t.http().get(`/boxes/${record.boxId}`).set('x-api-key', k), 'reader'],
      ['GET /identities/:id', (k) => t.http().get(`/identities/${identity.id}`).set('x-api-key', k), 'reader'],
      ['GET /records/:id/images/scene', (k) => t.http().get(`/records/${record.id}/images/scene`).set('x-api-key', k), 'biometric-reader'],
      ['GET /records/:id/feature', (k) => t.http().get(`/records/${record.id}/feature`).set('x-api-key', k), 'biometric-reader'],
      [
        'GET /identities/:id/faces/:f/image',
        (k) => t.http().get(`/identities/${identity.id}/faces/${ZERO}/image`).set('x-api-key', k),
        'biometric-reader',
      ],
      ['PATCH /boxes/:id', (k) => t.http().patch(`/boxes/${record.boxId}`).set('x-api-key', k).send({ name: 'gate' }), 'admin'],
      ['PATCH /identities/:id', (k) => t.http().patch(`/identities/${identity.id}`).set('x-api-key', k).send({ name: 'Ann' }), 'admin'],
      [
        'POST /identities/:id/merge-into',
        (k) => t.http().post(`/identities/${identity.id}/merge-into`).set('x-api-key', k).send({ targetId: ZERO }),
        'admin',
      ],
      ['GET /api-keys', (k) => t.http().get('/api-keys').set('x-api-key', k), 'admin'],
      ['GET /audit-log', (k) => t.http().get('/audit-log').set('x-api-key', k), 'admin'],
    ];
    const order = ['reader', 'biometric-reader', 'admin'] as const;
    for (const [name, send, minimum] of requests) {
      for (const role of order) {
        const { status } = await send(keys[role]);
        const allowed = order.indexOf(role) >= order.indexOf(minimum);
        expect([name, role, allowed ? status !== 403 && status !== 401 : status === 403]).toEqual([name, role, true]);
      }
    }
  });

  it('creates keys over HTTP (admin), shows them once, stores only their hash, and refuses revoked ones', async () => {
    const created = await t.http().post('/api-keys').set('x-api-key', keys.admin).send({ name: 'attendance', role: 'reader' }).expect(201);
    const { key, id } = created.body as { key: string; id: string };
    expect(key).toMatch(/^rhk_[A-Za-z0-9_-]{43}$/);
    await t.http().get('/records').set('x-api-key', key).expect(200);

    const d = t.dataSource.options.type === 'postgres' ? '$1' : '?';
    const [row] = await t.dataSource.query(`SELECT * FROM api_keys WHERE id = ${d}`, [id]);
    expect(row.key_hash).toBe(createHash('sha256').update(key).digest('hex'));
    expect(JSON.stringify(row)).not.toContain(key);

    const list = await t.http().get('/api-keys').set('x-api-key', keys.admin).expect(200);
    expect(JSON.stringify(list.body)).not.toContain(key);
    expect((list.body as Json[]).find((k) => k.id === id)).toMatchObject({
      name: 'attendance',
      role: 'reader',
      revokedAt: null,
      keyPrefix: key.slice(0, 12),
    });
    expect((list.body as Json[])[0]).not.toHaveProperty('keyHash');

    await t.http().post('/api-keys').set('x-api-key', keys.reader).send({ name: 'x', role: 'admin' }).expect(403);
    expect((await t.http().post('/api-keys').set('x-api-key', keys.admin).send({ name: 'x', role: 'root' }).expect(400)).body.field).toBe(
      'role',
    );

    await t.http().delete(`/api-keys/${id}`).set('x-api-key', keys.admin).expect(200);
    await t.http().get('/records').set('x-api-key', key).expect(401);
    await t.http().delete(`/api-keys/${ZERO}`).set('x-api-key', keys.admin).expect(404);
  });

  it('lets the ADMIN_API_KEY bootstrap key create the first keys', async () => {
    const res = await t.http().post('/api-keys').set('x-api-key', BOOTSTRAP_ADMIN).send({ name: 'first-admin', role: 'admin' }).expect(201);
    await t.http().get('/api-keys').set('x-api-key', res.body.key).expect(200);
    const trail = await t.http().get(`/audit-log?action=api-key.created&subjectId=${res.body.id}`).set('x-api-key', keys.admin).expect(200);
    expect(trail.body.items).toEqual([expect.objectContaining({ actor: 'env:ADMIN_API_KEY', subjectType: 'api-key' })]);
  });

  it('creates, lists and revokes keys from the command line', async () => {
    const lines: string[] = [];
    const env = { ...t.db.env, NODE_ENV: 'test' };
    expect(await runApiKeyCli(['create', '--name', 'ops', '--role', 'biometric-reader'], env, (l) => lines.push(l))).toBe(0);
    const key = lines[1];
    const id = /id ([0-9a-f-]{36})/.exec(lines[0])![1];
    await t.http().get('/records').set('x-api-key', key).expect(200);
    const [record] = (await t.http().get('/records').set('x-api-key', key).expect(200)).body.items as Json[];
    await t.http().get(`/records/${record.id}/feature`).set('x-api-key', key).expect(200);

    lines.length = 0;
    expect(await runApiKeyCli(['list'], env, (l) => lines.push(l))).toBe(0);
    expect(lines.join('\n')).toContain(id);
    expect(lines.join('\n')).not.toContain(key);

    expect(await runApiKeyCli(['revoke', '--id', id], env, () => undefined)).toBe(0);
    await t.http().get('/records').set('x-api-key', key).expect(401);
    expect(await runApiKeyCli(['create', '--name', 'x', '--role', 'root'], env, () => undefined)).toBe(2);
  });

  it('leaves the box endpoint to its own authentication', async () => {
    await push(t, boxRecord({ timestamp: 1_700_000_000_500 }));
  });

  it('publishes OpenAPI at /docs-json and Swagger UI at /docs, describing every endpoint', async () => {
    const doc = (await t.http().get('/docs-json').expect(200)).body as {
      paths: Record<string, Record<string, { summary?: string; security?: unknown[]; responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, unknown>; securitySchemes: Record<string, { name: string }> };
    };
    const expected: [string, string][] = [
      ['/records', 'get'],
      ['/records/export.csv', 'get'],
      ['/records/{id}', 'get'],
      ['/records/{id}/images/{role}', 'get'],
      ['/records/{id}/feature', 'get'],
      ['/identities', 'get'],
      ['/identities/{id}', 'get'],
      ['/identities/{id}', 'patch'],
      ['/identities/{id}/merge-into', 'post'],
      ['/identities/{id}/faces/{faceId}/image', 'get'],
      ['/identities/{id}/faces/{faceId}/feature', 'get'],
      ['/boxes', 'get'],
      ['/boxes/{id}', 'get'],
      ['/boxes/{id}', 'patch'],
      ['/api-keys', 'post'],
      ['/api-keys', 'get'],
      ['/api-keys/{id}', 'delete'],
      ['/audit-log', 'get'],
    ];
    for (const [path, method] of expected) {
      const op = doc.paths[path]?.[method];
      expect([path, method, Boolean(op?.summary), Boolean(op?.security?.length), Boolean(op?.responses['401'])]).toEqual([
        path,
        method,
        true,
        true,
        true,
      ]);
    }
    // Every published operation (box edge, health, erasure, integrations too) says what it does.
    const undocumented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([, op]) => !op.summary)
        .map(([method]) => `${method.toUpperCase()} ${path}`),
    );
    expect(undocumented).toEqual([]);
    for (const schema of [
      'RecordSummaryDto',
      'RecordDetailDto',
      'RecordPageDto',
      'IdentityDetailDto',
      'BoxDetailDto',
      'CreateApiKeyDto',
      'ErrorResponseDto',
      'AuditPageDto',
    ]) {
      expect(doc.components.schemas).toHaveProperty(schema);
    }
    expect(doc.components.securitySchemes['api-key'].name).toBe('X-API-Key');
    // No response DTO documents a feature or image-bytes property (request bodies do: the box wire format, and a face
    // search's probe).
    const { BoxRecordV2, BoxRecordLegacy, FaceSearchRequestDto, ...responseSchemas } = doc.components.schemas;
    expect(JSON.stringify([BoxRecordV2, BoxRecordLegacy, FaceSearchRequestDto])).toMatch(/"feature"\s*:/);
    const props = JSON.stringify(responseSchemas);
    expect(props).not.toMatch(/"feature"\s*:/);
    const ui = await t.http().get('/docs/').redirects(1);
    expect(ui.status).toBe(200);
    expect(ui.text).toContain('swagger');
  });
});
