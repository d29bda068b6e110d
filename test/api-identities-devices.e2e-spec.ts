import { EventEmitter2 } from '@nestjs/event-emitter';
import { IdentityMergedEvent } from '../src/events/domain-events';
import { boxRecord, createApiKey, Json, push } from './helpers/api-client';
import { CALLBACK_PATH, readFixture, startTestApp, TestApp } from './helpers/test-app';
import { describeDb } from './helpers/test-database';

const T = 1_700_000_000_000;

describeDb('REST API: identities and devices', () => {
  let t: TestApp;
  let reader: string;
  let bio: string;
  let admin: { key: string; id: string };
  const merged: IdentityMergedEvent[] = [];
  const get = (path: string, key = reader) => t.http().get(path).set('x-api-key', key);
  const identityByExternal = async (externalId: string): Promise<Json> => {
    const res = await get(`/identities?externalId=${externalId}`).expect(200);
    expect(res.body.items).toHaveLength(1);
    return res.body.items[0];
  };

  beforeAll(async () => {
    t = await startTestApp();
    reader = (await createApiKey(t, 'reader')).key;
    bio = (await createApiKey(t, 'biometric-reader')).key;
    admin = await createApiKey(t, 'admin');
    t.app.get(EventEmitter2).on(IdentityMergedEvent.type, (e: IdentityMergedEvent) => void merged.push(e));
    await push(t, [
      // A stranger registered by the box, who later gets a new registered face.
      boxRecord({
        box: 'BOX-A',
        device: 'cam-1',
        identity: 's-1',
        name: 'Stranger One',
        userType: 'stranger',
        postAction: '1001',
        timestamp: T + 1000,
        withImages: true,
      }),
      boxRecord({
        box: 'BOX-A',
        device: 'cam-1',
        identity: 's-1',
        name: 'Stranger One',
        userType: 'stranger',
        postAction: '1002',
        timestamp: T + 5000,
        withImages: true,
      }),
      boxRecord({ box: 'BOX-A', device: 'cam-2', identity: 'e-7', name: 'Eve Example', userType: 'employee', timestamp: T + 2000 }),
      // The same person registered twice on another box: to be merged into s-1.
      boxRecord({
        box: 'BOX-B',
        device: 'door',
        identity: 'dup-1',
        name: 'stranger dup',
        userType: 'stranger',
        postAction: '1001',
        timestamp: T + 3000,
        withImages: true,
      }),
      boxRecord({ box: 'BOX-B', device: 'door', identity: 'dup-1', name: 'stranger dup', userType: 'stranger', timestamp: T + 8000 }),
      boxRecord({ box: 'BOX-B', device: 'door', identity: 'v-1', name: 'Victor Visitor', userType: 'visitor', timestamp: T + 4000 }),
    ]);
    await t.drainOutbox();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('lists identities most recently seen first, paginated', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { items: Json[]; nextCursor: string | null } } = await get(
        `/identities?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      ).expect(200);
      seen.push(...res.body.items.map((i) => i.externalId as string));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['dup-1', 's-1', 'v-1', 'e-7']);
  });

  it.each([
    ['q matching part of a name, any case', 'q=eXAMple', ['e-7']],
    ['q matching an identity_id exactly', 'q=v-1', ['v-1']],
    ['q matching nothing', 'q=nobody', []],
    ['q with LIKE wildcards taken literally', 'q=%25', []],
    ['userType', 'userType=stranger', ['dup-1', 's-1']],
    ['externalId', 'externalId=s-1', ['s-1']],
  ])('searches identities by %s', async (_n, query, expected) => {
    const res = await get(`/identities?${query}`).expect(200);
    expect((res.body.items as Json[]).map((i) => i.externalId)).toEqual(expected);
  });

  it('shows an identity with its face library (current and history) and latest records', async () => {
    const s1 = await identityByExternal('s-1');
    const res = await get(`/identities/${s1.id}`).expect(200);
    expect(res.body).toMatchObject({ externalId: 's-1', name: 'Stranger One', userType: 'stranger', recordCount: 2 });
    expect(res.body.currentFace).toMatchObject({ source: 'face-library-updated', isCurrent: true, capturedAt: T + 5000, hasFeature: true });
    expect(res.body.faceHistory).toEqual([
      expect.objectContaining({ source: 'stranger-registered', isCurrent: false, capturedAt: T + 1000 }),
    ]);
    expect((res.body.latestRecords as Json[]).map((r) => r.occurredAt)).toEqual([T + 5000, T + 1000]);
    expect(JSON.stringify(res.body)).not.toMatch(/"feature"/);
    await get('/identities/00000000-0000-4000-8000-000000000000').expect(404);
  });

  it('serves face library images and features to biometric readers, audited', async () => {
    const s1 = await identityByExternal('s-1');
    const detail = (await get(`/identities/${s1.id}`).expect(200)).body;
    const face = detail.currentFace as Json;
    const image = await get(face.imageUrl as string, bio).expect(200);
    expect(image.headers['content-type']).toBe('image/jpeg');
    expect(image.headers.etag).toBe(`"${face.imageSha256}"`);
    const feature = await get(`/identities/${s1.id}/faces/${face.id}/feature`, bio).expect(200);
    expect(feature.body.dimensions).toBe(512);
    await get(face.imageUrl as string).expect(403);
    // A face is only reachable through its own identity.
    const other = await identityByExternal('v-1');
    await get(`/identities/${other.id}/faces/${face.id}/image`, bio).expect(404);
    const trail = await get(`/audit-log?subjectType=face&subjectId=${face.id}`, admin.key).expect(200);
    expect((trail.body.items as Json[]).map((e) => e.action)).toEqual(['face.feature.read', 'face.image.read']);
  });

  it('changes name and user_type (admin), audited with before and after', async () => {
    const v1 = await identityByExternal('v-1');
    const res = await t
      .http()
      .patch(`/identities/${v1.id}`)
      .set('x-api-key', admin.key)
      .send({ name: 'Victor V.', userType: 'blacklist' })
      .expect(200);
    expect(res.body).toMatchObject({ name: 'Victor V.', userType: 'blacklist' });
    expect((await get(`/identities?userType=blacklist`).expect(200)).body.items).toEqual([expect.objectContaining({ id: v1.id })]);
    const trail = await get(`/audit-log?action=identity.updated&subjectId=${v1.id}`, admin.key).expect(200);
    expect(trail.body.items[0]).toMatchObject({
      actor: `api-key:${admin.id}`,
      details: { name: { from: 'Victor Visitor', to: 'Victor V.' }, userType: { from: 'visitor', to: 'blacklist' } },
    });
    expect(res.body.editedAt).toEqual(expect.any(Number));

    // A later push from the box still says "visitor": the operator's decision stands, the record keeps what was sent.
    await push(
      t,
      boxRecord({ box: 'BOX-B', device: 'door', identity: 'v-1', name: 'Victor Visitor', userType: 'visitor', timestamp: T + 4500 }),
    );
    expect((await get(`/identities/${v1.id}`).expect(200)).body).toMatchObject({
      name: 'Victor V.',
      userType: 'blacklist',
      lastSeenAt: T + 4500,
    });
    expect((await get(`/records?identityId=${v1.id}&from=${T + 4500}`).expect(200)).body.items[0]).toMatchObject({
      userType: 'visitor',
      identityName: 'Victor Visitor',
    });
    expect((await t.http().patch(`/identities/${v1.id}`).set('x-api-key', admin.key).send({ userType: 5 }).expect(400)).body.field).toBe(
      'userType',
    );
    expect((await t.http().patch(`/identities/${v1.id}`).set('x-api-key', admin.key).send({ colour: 'red' }).expect(400)).body.field).toBe(
      'colour',
    );
  });

  it('merges one identity into another: records and faces move, the source goes, an event is emitted', async () => {
    const source = await identityByExternal('dup-1');
    const target = await identityByExternal('s-1');
    const res = await t
      .http()
      .post(`/identities/${source.id}/merge-into`)
      .set('x-api-key', admin.key)
      .send({ targetId: target.id })
      .expect(200);
    expect(res.body).toMatchObject({ id: target.id, recordCount: 4, lastSeenAt: T + 8000, firstSeenAt: T + 1000 });
    // The current face stays the newest by capture time; the moved face joins the history.
    expect(res.body.currentFace).toMatchObject({ capturedAt: T + 5000 });
    expect((res.body.faceHistory as Json[]).map((f) => f.capturedAt)).toEqual([T + 3000, T + 1000]);
    expect((await get(`/records?identityId=${target.id}`).expect(200)).body.items).toHaveLength(4);
    expect((await get(`/records?identityId=${source.id}`).expect(200)).body.items).toHaveLength(0);
    await get(`/identities/${source.id}`).expect(404);
    expect((await get('/identities?externalId=dup-1').expect(200)).body.items).toEqual([]);

    await t.drainOutbox();
    expect(merged.map((e) => e.merge)).toEqual([
      {
        sourceId: source.id,
        sourceExternalId: 'dup-1',
        targetId: target.id,
        targetExternalId: 's-1',
        movedRecords: 2,
        movedFaces: 1,
        mergedBy: `api-key:${admin.id}`,
      },
    ]);
    const trail = await get(`/audit-log?action=identity.merged`, admin.key).expect(200);
    expect(trail.body.items[0]).toMatchObject({ subjectId: target.id, details: expect.objectContaining({ sourceId: source.id }) });

    // The box still knows the person as dup-1: its next push lands on the target instead of re-creating dup-1.
    await push(
      t,
      boxRecord({ box: 'BOX-B', device: 'door', identity: 'dup-1', name: 'stranger dup', userType: 'stranger', timestamp: T + 8800 }),
    );
    expect((await get(`/records?identityId=${target.id}`).expect(200)).body.items).toHaveLength(5);
    expect((await get('/identities?externalId=dup-1').expect(200)).body.items).toEqual([]);
    expect((await get(`/identities/${target.id}`).expect(200)).body).toMatchObject({ lastSeenAt: T + 8800, recordCount: 5 });

    await t.http().post(`/identities/${target.id}/merge-into`).set('x-api-key', admin.key).send({ targetId: target.id }).expect(400);
    expect(
      (await t.http().post(`/identities/${source.id}/merge-into`).set('x-api-key', admin.key).send({ targetId: target.id }).expect(404))
        .body.field,
    ).toBe('id');
    expect((await t.http().post(`/identities/${target.id}/merge-into`).set('x-api-key', admin.key).send({}).expect(400)).body.field).toBe(
      'targetId',
    );
  });

  it('lists boxes and media devices with first/last seen and record counts, hiding stream credentials', async () => {
    const withCreds = boxRecord({ box: 'BOX-C', device: 'cam-x', timestamp: T + 9000 });
    (withCreds.media_device_info as Json).media_device_url = 'rtsp://admin:s3cret@10.0.0.9:554/stream';
    await push(t, withCreds);
    const page = (await get('/boxes').expect(200)).body as { items: Json[]; nextCursor: string | null };
    expect(page.nextCursor).toBeNull();
    const boxes = page.items;
    expect(boxes.map((b) => [b.licenseKey, b.recordCount, b.mediaDeviceCount, b.enabled])).toEqual([
      ['BOX-A', 3, 2, true],
      ['BOX-B', 5, 1, true],
      ['BOX-C', 1, 1, true],
    ]);
    expect(boxes[0].firstSeenAt).toEqual(expect.any(Number));
    expect(boxes[0].lastSeenAt).toBeGreaterThanOrEqual(boxes[0].firstSeenAt as number);
    const a = (await get(`/boxes/${boxes[0].id}`).expect(200)).body;
    expect((a.mediaDevices as Json[]).map((m) => [m.deviceId, m.recordCount])).toEqual([
      ['cam-1', 2],
      ['cam-2', 1],
    ]);
    const c = (await get(`/boxes/${boxes[2].id}`).expect(200)).body;
    expect(c.mediaDevices[0].url).toBe('rtsp://10.0.0.9:554/stream');
    expect(JSON.stringify(c)).not.toContain('s3cret');
    await get('/boxes/00000000-0000-4000-8000-000000000000').expect(404);
  });

  it('pages boxes with limit and cursor like the other lists', async () => {
    const all = ((await get('/boxes?limit=500').expect(200)).body.items as Json[]).map((b) => b.id);
    expect(all.length).toBeGreaterThanOrEqual(3);
    const seen: unknown[] = [];
    let cursor: string | null = null;
    do {
      const body: { items: Json[]; nextCursor: string | null } = (
        await get(`/boxes?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`).expect(200)
      ).body;
      expect(body.items.length).toBeLessThanOrEqual(2);
      seen.push(...body.items.map((b) => b.id));
      cursor = body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all);
    expect((await get('/boxes?limit=0').expect(400)).body.field).toBe('limit');
    expect((await get('/boxes?cursor=nonsense').expect(400)).body.field).toBe('cursor');
  });

  it("renames and disables a box (admin); a disabled box's pushes are refused with 403", async () => {
    const box = ((await get('/boxes').expect(200)).body.items as Json[]).find((b) => b.licenseKey === 'BOX-C')!;
    const renamed = await t
      .http()
      .patch(`/boxes/${box.id}`)
      .set('x-api-key', admin.key)
      .send({ name: 'North gate', enabled: false })
      .expect(200);
    expect(renamed.body).toMatchObject({ name: 'North gate', enabled: false });

    const refused = await t
      .http()
      .post(CALLBACK_PATH)
      .set('content-type', 'application/json')
      .send(boxRecord({ box: 'BOX-C', device: 'cam-x', timestamp: T + 9500 }));
    expect(refused.status).toBe(403);
    await t.http().patch(`/boxes/${box.id}`).set('x-api-key', admin.key).send({ enabled: true }).expect(200);
    await push(t, boxRecord({ box: 'BOX-C', device: 'cam-x', timestamp: T + 9500 }));
    expect(((await get(`/boxes/${box.id}`).expect(200)).body as Json).recordCount).toBe(2);

    const trail = await get(`/audit-log?action=box.updated&subjectId=${box.id}`, admin.key).expect(200);
    expect((trail.body.items as Json[]).map((e) => e.details)).toEqual([{ enabled: true }, { name: 'North gate', enabled: false }]);
    expect((await t.http().patch(`/boxes/${box.id}`).set('x-api-key', admin.key).send({ enabled: 'no' }).expect(400)).body.field).toBe(
      'enabled',
    );
    await t.http().patch('/boxes/00000000-0000-4000-8000-000000000000').set('x-api-key', admin.key).send({ name: 'x' }).expect(404);
  });

  it('follows chained merges: an identity merged into one later merged elsewhere lands on the last target', async () => {
    const s1 = await identityByExternal('s-1');
    const e7 = await identityByExternal('e-7');
    await t.http().post(`/identities/${s1.id}/merge-into`).set('x-api-key', admin.key).send({ targetId: e7.id }).expect(200);
    await push(t, boxRecord({ box: 'BOX-C', device: 'cam-x', identity: 'dup-1', timestamp: T + 9900 }));
    await push(t, boxRecord({ box: 'BOX-C', device: 'cam-x', identity: 's-1', timestamp: T + 9901 }));
    const records = (await get(`/records?identityId=${e7.id}`).expect(200)).body.items as Json[];
    expect(records.slice(0, 2).map((r) => r.identityExternalId)).toEqual(['s-1', 'dup-1']);
    expect((await get('/identities?limit=500').expect(200)).body.items.map((i: Json) => i.externalId).sort()).toEqual([
      'e-7',
      'p-1',
      'v-1',
    ]);
  });

  it('keeps the fixture feature out of every identity and device response', async () => {
    const feature = ((readFixture('typical/000000.json').recognize_face_attr as Json).feature_base64_str as string).slice(0, 64);
    for (const path of ['/identities', '/boxes']) expect(JSON.stringify((await get(path).expect(200)).body)).not.toContain(feature);
  });
});
