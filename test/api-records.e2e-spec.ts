import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { RecordsExportService } from '../src/recognition-records/records-export.service';
import { boxRecord, createApiKey, Json, longBase64Strings, push } from './helpers/api-client';
import { readFixture, startTestApp, TestApp } from './helpers/test-app';
import { describeDb } from './helpers/test-database';

const T = 1_700_000_000_000;

describeDb('REST API: records', () => {
  let t: TestApp;
  let reader: string;
  let bio: { key: string; id: string };
  let admin: string;
  const byTime = new Map<number, Json>();
  const get = (path: string, key = reader) => t.http().get(path).set('x-api-key', key);
  const times = (items: Json[]) => items.map((r) => r.occurredAt as number);

  beforeAll(async () => {
    t = await startTestApp();
    reader = (await createApiKey(t, 'reader')).key;
    bio = await createApiKey(t, 'biometric-reader');
    admin = (await createApiKey(t, 'admin')).key;
    await push(t, [
      boxRecord({ box: 'BOX-A', device: 'cam-1', identity: 'p-1', userType: 'employee', postAction: '0', score: 95, timestamp: T + 1000 }),
      boxRecord({
        box: 'BOX-A',
        device: 'cam-2',
        identity: 'p-2',
        userType: 'visitor',
        postAction: '1001',
        score: 50,
        timestamp: T + 2000,
      }),
      boxRecord({
        box: 'BOX-B',
        device: 'cam-1',
        identity: 'p-3',
        userType: 'blacklist',
        postAction: '0',
        score: 80,
        timestamp: T + 3000,
        defective: true,
      }),
      boxRecord({
        box: 'BOX-B',
        device: 'cam-9',
        identity: 'p-1',
        userType: 'employee',
        postAction: '1002',
        score: 99,
        timestamp: T + 4000,
        withImages: true,
      }),
    ]);
    const res = await get('/records?limit=100').expect(200);
    for (const r of res.body.items as Json[]) byTime.set(r.occurredAt as number, r);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('lists newest first with summaries only', async () => {
    const res = await get('/records').expect(200);
    expect(times(res.body.items)).toEqual([T + 4000, T + 3000, T + 2000, T + 1000]);
    expect(res.body.nextCursor).toBeNull();
    const r4 = res.body.items[0];
    expect(r4).toMatchObject({
      identityExternalId: 'p-1',
      userType: 'employee',
      postAction: '1002',
      score: 0.99,
      scoreRaw: 99,
      hasDefects: false,
      hasFeature: true,
    });
    expect(r4.imageRoles).toEqual(['registered', 'scene', 'face']);
    expect(r4).not.toHaveProperty('feature');
  });

  it.each([
    ['from', () => `from=${T + 2000}`, [T + 4000, T + 3000, T + 2000]],
    ['to (exclusive)', () => `to=${T + 2000}`, [T + 1000]],
    [
      'from and to as ISO dates',
      () => `from=${new Date(T + 1500).toISOString()}&to=${new Date(T + 3500).toISOString()}`,
      [T + 3000, T + 2000],
    ],
    ['boxId', () => `boxId=${byTime.get(T + 1000)!.boxId}`, [T + 2000, T + 1000]],
    ['mediaDeviceId', () => `mediaDeviceId=${byTime.get(T + 1000)!.mediaDeviceId}`, [T + 1000]],
    ['identityId', () => `identityId=${byTime.get(T + 1000)!.identityId}`, [T + 4000, T + 1000]],
    ['identityExternalId', () => 'identityExternalId=p-3', [T + 3000]],
    ['userType', () => 'userType=visitor', [T + 2000]],
    ['postAction', () => 'postAction=1002', [T + 4000]],
    ['minScore (normalised)', () => 'minScore=0.9', [T + 4000, T + 1000]],
    ['hasDefects=true', () => 'hasDefects=true', [T + 3000]],
    ['hasDefects=false', () => 'hasDefects=false', [T + 4000, T + 2000, T + 1000]],
    ['several filters together', () => `boxId=${byTime.get(T + 4000)!.boxId}&userType=employee&minScore=0.5`, [T + 4000]],
  ])('filters by %s', async (_name, query, expected) => {
    const res = await get(`/records?${query()}`).expect(200);
    expect(times(res.body.items)).toEqual(expected);
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=501', 'limit'],
    ['minScore=2', 'minScore'],
    ['from=yesterday', 'from'],
    ['boxId=nope', 'boxId'],
    ['hasDefects=maybe', 'hasDefects'],
    ['cursor=xyz', 'cursor'],
    ['colour=red', 'colour'],
  ])('refuses %s with 400 naming the field', async (query, field) => {
    const res = await get(`/records?${query}`).expect(400);
    expect(res.body).toMatchObject({ statusCode: 400, field });
  });

  it('keeps pages exact while newer and older records arrive', async () => {
    const originals = Array.from({ length: 25 }, (_, i) =>
      boxRecord({ box: 'BOX-P', device: `cam-${i % 3}`, identity: `q-${i}`, timestamp: T + 100_000 + i * 10 }),
    );
    await push(t, originals);
    // Two records share a timestamp (different identities): the id breaks the tie across a page boundary.
    await push(t, boxRecord({ box: 'BOX-P', device: 'cam-0', identity: 'tie', timestamp: T + 100_000 + 120 }));
    const boxId = ((await get('/records?identityExternalId=tie').expect(200)).body.items[0] as Json).boxId;

    const seen: Json[] = [];
    let cursor: string | null = null;
    let n = 0;
    do {
      const url: string = `/records?boxId=${boxId}&limit=4${cursor ? `&cursor=${cursor}` : ''}`;
      // Records arrive while the pages are read: newer ones, and a late one older than everything.
      const [res] = await Promise.all([
        get(url).expect(200),
        push(t, [
          boxRecord({ box: 'BOX-P', device: 'cam-new', identity: `new-${n}`, timestamp: T + 200_000 + n }),
          boxRecord({ box: 'BOX-P', device: 'cam-late', identity: `late-${n}`, timestamp: T + 50_000 - n }),
        ]),
      ]);
      seen.push(...(res.body.items as Json[]));
      cursor = res.body.nextCursor;
      n++;
    } while (cursor);

    const ids = seen.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    const expected = [...originals.map((o) => o.identity_id), 'tie'];
    const seenIdentities = seen.map((r) => r.identityExternalId);
    for (const id of expected) expect(seenIdentities).toContain(id);
    // Strictly descending by (occurredAt, id): no row was repeated or skipped between pages.
    for (let i = 1; i < seen.length; i++) {
      const [a, b] = [seen[i - 1], seen[i]];
      expect(
        (a.occurredAt as number) > (b.occurredAt as number) || (a.occurredAt === b.occurredAt && (a.id as string) > (b.id as string)),
      ).toBe(true);
    }
    // A newer arrival can only be on the first page (read without a cursor), never behind the cursor.
    const newerSeenAt = seenIdentities.flatMap((i, at) => (String(i).startsWith('new-') ? [at] : []));
    for (const at of newerSeenAt) expect(at).toBeLessThan(4);
  });

  it('returns a record in detail, with image references but no bytes or feature', async () => {
    const id = byTime.get(T + 4000)!.id as string;
    const res = await get(`/records/${id}`).expect(200);
    const fixture = readFixture('typical/000000.json');
    const sha = (b64: string) => createHash('sha256').update(Buffer.from(b64, 'base64')).digest('hex');
    expect(res.body).toMatchObject({
      id,
      box: { licenseKey: 'BOX-B' },
      mediaDevice: { deviceId: 'cam-9' },
      defects: [],
      apiVersion: '2.0',
    });
    expect(res.body.images).toEqual([
      {
        role: 'registered',
        sha256: sha(fixture.reg_image as string),
        contentType: 'image/jpeg',
        byteSize: expect.any(Number),
        url: `/records/${id}/images/registered`,
      },
      {
        role: 'scene',
        sha256: sha(fixture.spot_image as string),
        contentType: 'image/jpeg',
        byteSize: expect.any(Number),
        url: `/records/${id}/images/scene`,
      },
      {
        role: 'face',
        sha256: sha(fixture.recognize_face_image as string),
        contentType: 'image/jpeg',
        byteSize: expect.any(Number),
        url: `/records/${id}/images/face`,
      },
    ]);
    expect(res.body.landmarks).toHaveLength(10);
    expect(res.body).not.toHaveProperty('feature');

    const defective = await get(`/records/${byTime.get(T + 3000)!.id}`).expect(200);
    expect(defective.body.defects).toEqual([expect.objectContaining({ field: 'spot_image' })]);
    await get('/records/00000000-0000-4000-8000-000000000000').expect(404);
    expect((await get('/records/not-a-uuid').expect(400)).body.field).toBe('id');
  });

  it('has no base64 string longer than 256 characters in any list or detail response', async () => {
    const list = await get('/records?limit=500').expect(200);
    expect(longBase64Strings(list.body)).toEqual([]);
    for (const r of (list.body.items as Json[]).slice(0, 10)) {
      expect(longBase64Strings((await get(`/records/${r.id}`).expect(200)).body)).toEqual([]);
    }
    const identities = await get('/identities?limit=500').expect(200);
    expect(longBase64Strings(identities.body)).toEqual([]);
    for (const i of identities.body.items as Json[])
      expect(longBase64Strings((await get(`/identities/${i.id}`).expect(200)).body)).toEqual([]);
    expect(longBase64Strings((await get('/boxes').expect(200)).body)).toEqual([]);
    // The detector itself catches a feature.
    expect(longBase64Strings(readFixture('small/000000.json'))).toHaveLength(1);
  });

  it('serves an image with its content type, sha256 ETag, immutable caching and 304', async () => {
    const id = byTime.get(T + 4000)!.id as string;
    const fixture = readFixture('typical/000000.json');
    const expected = Buffer.from(fixture.spot_image as string, 'base64');
    const res = await get(`/records/${id}/images/scene`, bio.key)
      .buffer(true)
      .parse((r, cb) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => cb(null, Buffer.concat(chunks)));
      })
      .expect(200);
    expect(res.headers['content-type']).toBe('image/jpeg');
    expect(Buffer.compare(res.body as Buffer, expected)).toBe(0);
    const etag = `"${createHash('sha256').update(expected).digest('hex')}"`;
    expect(res.headers.etag).toBe(etag);
    expect(res.headers['cache-control']).toContain('immutable');
    expect(res.headers['cache-control']).toContain('private');

    const again = await get(`/records/${id}/images/scene`, bio.key).set('if-none-match', etag).expect(304);
    expect(again.headers.etag).toBe(etag);
    await get(`/records/${id}/images/scene`, admin).expect(200);

    expect((await get(`/records/${id}/images/infrared`, bio.key).expect(404)).body.field).toBe('role');
    expect((await get(`/records/${id}/images/thumbnail`, bio.key).expect(400)).body.field).toBe('role');
  });

  it('serves the feature vector to biometric readers only', async () => {
    const id = byTime.get(T + 1000)!.id as string;
    const res = await get(`/records/${id}/feature`, bio.key).expect(200);
    const bytes = Buffer.from((readFixture('small/000000.json').recognize_face_attr as Json).feature_base64_str as string, 'base64');
    const expected = Array.from({ length: 512 }, (_, i) => bytes.readFloatLE(i * 4));
    expect(res.body).toEqual({ recordId: id, dimensions: 512, values: expected });
    await get(`/records/${id}/feature`).expect(403);
    await get(`/records/${id}/images/scene`).expect(403);
  });

  it('audits every biometric read with the caller, and shows the trail to admins only', async () => {
    const id = byTime.get(T + 4000)!.id as string;
    await get(`/records/${id}/images/face`, bio.key).expect(200);
    await get(`/records/${id}/feature`, bio.key).expect(200);
    const trail = await get(`/audit-log?subjectId=${id}&actor=api-key:${bio.id}`, admin).expect(200);
    const actions = (trail.body.items as Json[]).map((e) => `${e.action}:${(e.details as Json | null)?.role ?? ''}`);
    expect(actions.slice(0, 2)).toEqual(['record.feature.read:', 'record.image.read:face']);
    // The scene image was read three times above (200, 304, 200 by admin): each read is in the trail.
    expect(actions.filter((a) => a === 'record.image.read:scene')).toHaveLength(2);
    expect(longBase64Strings(trail.body)).toEqual([]);
    await get('/audit-log', bio.key).expect(403);
    await get('/audit-log').expect(403);
  });

  it('exports a filtered range as streamed CSV without biometric columns', async () => {
    const boxId = byTime.get(T + 1000)!.boxId as string;
    const res = await get(`/records/export.csv?boxId=${boxId}`).expect(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toContain('attachment');
    const lines = (res.text as string).trimEnd().split('\r\n');
    const header = lines[0].split(',');
    expect(header).toEqual(expect.arrayContaining(['id', 'occurred_at', 'identity_external_id', 'user_type', 'score']));
    expect(header.some((h) => /image|feature|landmark|extra/.test(h))).toBe(false);
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual([byTime.get(T + 2000)!.id, byTime.get(T + 1000)!.id]);
    expect((await get('/records/export.csv?limit=5').expect(400)).body.field).toBe('limit');
    expect(res.text.charCodeAt(0)).not.toBe(0xfeff);
  });

  it('starts the export with a UTF-8 byte order mark on ?bom=true, for spreadsheet programs', async () => {
    const boxId = byTime.get(T + 1000)!.boxId as string;
    const res = await get(`/records/export.csv?boxId=${boxId}&bom=true`)
      .buffer(true)
      .parse((r, done) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => done(null, Buffer.concat(chunks)));
      })
      .expect(200);
    const bytes = res.body as Buffer;
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(bytes.subarray(3).toString('utf8').split('\r\n')[0]).toMatch(/^id,occurred_at,/);
    expect((await get('/records/export.csv?bom=maybe').expect(400)).body.field).toBe('bom');
  });

  it('writes the export page by page across keyset boundaries', async () => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const count = await t.app.get(RecordsExportService).writeCsv({ to: T + 10_000 }, out, { batchSize: 3 });
    out.end();
    expect(count).toBe(4);
    const rows = Buffer.concat(chunks).toString('utf8').trimEnd().split('\r\n').slice(1);
    expect(rows.map((r) => r.split(',')[0])).toEqual([T + 4000, T + 3000, T + 2000, T + 1000].map((x) => byTime.get(x)!.id));
  });

  // Last: it adds a box and a record the earlier tests do not expect.
  it('rounds normalised scores to 6 decimals in JSON, CSV and the minScore filter (70.7 → 0.707)', async () => {
    await push(t, boxRecord({ box: 'BOX-SCORE', identity: 'p-score', score: 70.7, timestamp: T + 900_000 }));
    const [r] = (await get(`/records?identityExternalId=p-score`).expect(200)).body.items as Json[];
    expect(r).toMatchObject({ score: 0.707, scoreRaw: 70.7 });
    expect(JSON.stringify(r)).toContain('"score":0.707,');
    const csv = (await get(`/records/export.csv?identityExternalId=p-score`).expect(200)).text as string;
    const [header, row] = csv
      .trimEnd()
      .split('\r\n')
      .map((l) => l.split(','));
    expect(row[header.indexOf('score')]).toBe('0.707');
    // 50.16 / 100 is 0.5015999999999999: stored unrounded, minScore=0.5016 would miss it.
    await push(t, boxRecord({ box: 'BOX-SCORE', identity: 'p-score-2', score: 50.16, timestamp: T + 900_001 }));
    const [r2] = (await get(`/records?identityExternalId=p-score-2&minScore=0.5016`).expect(200)).body.items as Json[];
    expect(r2).toMatchObject({ score: 0.5016, scoreRaw: 50.16 });
  });
});
