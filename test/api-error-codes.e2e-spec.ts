import { boxRecord, createApiKey, Json, push } from './helpers/api-client';
import { startTestApp, TestApp } from './helpers/test-app';
import { describeDb } from './helpers/test-database';

const T = 1_700_000_000_000;
const NO_SUCH_ID = '00000000-0000-4000-8000-000000000000';

/** Services throw domain errors; HttpErrorFilter answers them, and every other error, with a stable `code`. */
describeDb('REST API: error codes', () => {
  let t: TestApp;
  let admin: string;
  const get = (path: string) => t.http().get(path).set('x-api-key', admin);
  const identityId = async (externalId: string): Promise<string> =>
    ((await get(`/identities?externalId=${externalId}`).expect(200)).body.items[0] as Json).id as string;

  beforeAll(async () => {
    t = await startTestApp();
    admin = (await createApiKey(t, 'admin')).key;
    await push(t, [
      boxRecord({ box: 'BOX-A', identity: 'keep-1', timestamp: T + 1000 }),
      boxRecord({ box: 'BOX-A', identity: 'dup-1', timestamp: T + 2000 }),
    ]);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('a record that does not exist: record_not_found', async () => {
    const res = await get(`/records/${NO_SUCH_ID}`).expect(404);
    expect(res.body).toEqual({
      statusCode: 404,
      error: 'Not Found',
      code: 'record_not_found',
      message: 'recognition record not found',
      field: 'id',
    });
  });

  it('a merged identity: identity_merged naming the target; an unknown one: identity_not_found', async () => {
    const source = await identityId('dup-1');
    const target = await identityId('keep-1');
    await t.http().post(`/identities/${source}/merge-into`).set('x-api-key', admin).send({ targetId: target }).expect(200);

    const res = await get(`/identities/${source}`).expect(404);
    expect(res.body).toMatchObject({ code: 'identity_merged', field: 'id' });
    expect(res.body.message).toContain(target);
    // Merging it again, or into it: the same code, naming the field that holds it.
    const again = await t.http().post(`/identities/${source}/merge-into`).set('x-api-key', admin).send({ targetId: target }).expect(404);
    expect(again.body).toMatchObject({ code: 'identity_merged', field: 'id' });
    const into = await t.http().post(`/identities/${target}/merge-into`).set('x-api-key', admin).send({ targetId: source }).expect(404);
    expect(into.body).toMatchObject({ code: 'identity_merged', field: 'targetId' });
    const self = await t.http().post(`/identities/${target}/merge-into`).set('x-api-key', admin).send({ targetId: target }).expect(400);
    expect(self.body).toMatchObject({ code: 'merge_into_self', field: 'targetId' });

    expect((await get(`/identities/${NO_SUCH_ID}`).expect(404)).body).toMatchObject({ code: 'identity_not_found', field: 'id' });
    const erase = await t.http().post(`/identities/${NO_SUCH_ID}/erasure`).set('x-api-key', admin).expect(404);
    expect(erase.body).toMatchObject({ code: 'identity_not_found', field: 'id' });
  });

  it.each(['/records', '/identities', '/boxes', '/audit-log'])('a cursor this API did not issue: cursor_invalid (%s)', async (path) => {
    const res = await get(`${path}?cursor=${Buffer.from('{"t":"x"}').toString('base64url')}`).expect(400);
    expect(res.body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      code: 'cursor_invalid',
      message: 'cursor is not one this API issued',
      field: 'cursor',
    });
  });

  it('webhook subscriptions and deliveries that do not exist, boxes and API keys too', async () => {
    expect((await get(`/webhooks/subscriptions/${NO_SUCH_ID}`).expect(404)).body).toMatchObject({
      code: 'webhook_subscription_not_found',
      field: 'id',
    });
    const del = await t.http().delete(`/webhooks/subscriptions/${NO_SUCH_ID}`).set('x-api-key', admin).expect(404);
    expect(del.body).toMatchObject({ code: 'webhook_subscription_not_found', field: 'id' });
    expect((await get(`/webhooks/deliveries/${NO_SUCH_ID}`).expect(404)).body).toMatchObject({
      code: 'webhook_delivery_not_found',
      field: 'id',
    });
    expect((await get(`/boxes/${NO_SUCH_ID}`).expect(404)).body).toMatchObject({ code: 'box_not_found', field: 'id' });
    const key = await t.http().delete(`/api-keys/${NO_SUCH_ID}`).set('x-api-key', admin).expect(404);
    expect(key.body).toMatchObject({ code: 'api_key_not_found', field: 'id' });
  });

  it('framework errors carry a code too: validation, unknown route, no key, bad JSON', async () => {
    expect((await get('/records?limit=9999').expect(400)).body).toMatchObject({ statusCode: 400, code: 'invalid_input', field: 'limit' });
    expect((await get('/records/not-a-uuid').expect(400)).body).toMatchObject({ code: 'invalid_input', field: 'id' });
    expect((await get('/no-such-route').expect(404)).body).toMatchObject({ statusCode: 404, error: 'Not Found', code: 'not_found' });
    expect((await t.http().get('/records').expect(401)).body).toMatchObject({ code: 'unauthenticated' });
    const badJson = await t
      .http()
      .patch(`/identities/${NO_SUCH_ID}`)
      .set('x-api-key', admin)
      .set('content-type', 'application/json')
      .send('{"name":')
      .expect(400);
    expect(badJson.body).toMatchObject({ code: 'invalid_json', field: 'body' });
  });

  it('box refusals keep their status and reason, and carry it as code', async () => {
    const res = await t
      .http()
      .post('/box-callbacks/some-token/recognition-records')
      .set('content-type', 'application/json')
      .send(boxRecord({ box: 'BOX-NEW', timestamp: T + 3000 }))
      .expect(401);
    expect(res.body).toEqual({
      statusCode: 401,
      error: 'Unauthorized',
      code: 'token_not_configured',
      message: expect.any(String),
      field: 'token',
      reason: 'token_not_configured',
    });
  });
});
