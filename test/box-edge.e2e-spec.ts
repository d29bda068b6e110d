import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CALLBACK_PATH, readFixture, startTestApp, TestApp } from './helpers/test-app';
import { describeDb } from './helpers/test-database';
import { toLegacy } from './box-edge-legacy';

type Row = Record<string, unknown>;

const parse = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v);

describeDb('box edge hardening', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { BODY_LIMIT: '1mb', IMAGE_MAX_BYTES: '262144' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  const post = (body: unknown, path = CALLBACK_PATH) =>
    t
      .http()
      .post(path)
      .set('content-type', 'application/json')
      .send(typeof body === 'string' ? body : JSON.stringify(body));
  const count = async (table: string, where = '1=1') =>
    Number((await t.dataSource.query(`SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`))[0].n);
  const recordAt = async (occurredAt: number): Promise<Row> => {
    const rows: Row[] = await t.dataSource.query(
      `SELECT r.*, b.license_key, m.type AS m_type, m.ip AS m_ip, m.name AS m_name, m.url AS m_url
       FROM recognition_records r JOIN boxes b ON b.id = r.box_id JOIN media_devices m ON m.id = r.media_device_id
       WHERE r.occurred_at = ${occurredAt}`,
    );
    expect(rows).toHaveLength(1);
    return rows[0];
  };
  const defectsOf = (r: Row) => parse(r.defects) as { field: string; code: string; message: string }[];

  describe('older firmware format', () => {
    it('stores a legacy record exactly like its v2.0 equivalent, images and feature included', async () => {
      for (const [i, file] of ['typical/000000.json', 'typical/000005.json', 'small/000007.json'].entries()) {
        const v2 = readFixture(file);
        delete (v2.media_device_info as Row).media_device_url; // ep_info has no URL
        const a = { ...v2, mq_license_key: `EQUIV-V2-${i}`, timestamp: 1710000000000 + i * 10 };
        const b = { ...toLegacy(v2), dev_sno: `EQUIV-LEGACY-${i}`, timestamp: 1710000000000 + i * 10 + 1 };
        expect((await post(a)).status).toBe(200);
        expect((await post(b)).status).toBe(200);
        const ra = await recordAt(a.timestamp);
        const rb = await recordAt(b.timestamp as number);
        const differing = ['id', 'box_id', 'media_device_id', 'occurred_at', 'box_timestamp', 'received_at', 'license_key', 'api_version'];
        const strip = (r: Row) => Object.fromEntries(Object.entries(r).filter(([k]) => !differing.includes(k)));
        expect(strip(rb)).toEqual(strip(ra));
        expect(ra.api_version).toBe('2.0');
        expect(rb.api_version).toBe('legacy');
        expect(defectsOf(rb)).toEqual([]);
        expect(rb.feature).not.toBeNull();
        if (v2.spot_image) expect(rb.spot_image_sha256).toMatch(/^[0-9a-f]{64}$/);
      }
      const boxes: Row[] = await t.dataSource.query(`SELECT api_version FROM boxes WHERE license_key = 'EQUIV-LEGACY-0'`);
      expect(boxes[0].api_version).toBe('legacy');
    });

    it.each([
      [undefined, 'employee'],
      [1, 'employee'],
      [2, 'visitor'],
      ['3', 'blacklist'],
      [4, 'stranger'],
      [5, 'vip'],
    ])('maps person_type %p to user_type %s', async (personType, userType) => {
      const ts = 1710000100000 + (typeof personType === 'undefined' ? 0 : Number(personType));
      const legacy = { ...toLegacy(readFixture('small/000001.json')), timestamp: ts, person_type: personType };
      expect((await post(legacy)).status).toBe(200);
      const r = await recordAt(ts);
      expect(r.user_type).toBe(userType);
      expect(defectsOf(r)).toEqual([]);
    });

    it('keeps one media device for a camera whose box is upgraded (ep_info.device_id is v2.0 media_device_id)', async () => {
      const v2: Row = { ...readFixture('small/000008.json'), mq_license_key: 'UPGRADED-BOX', timestamp: 1710000900002 };
      const uuid = (v2.media_device_info as Row).media_device_id as string;
      const legacy = toLegacy({ ...v2, timestamp: 1710000900001 });
      legacy.ep_info = { ...(legacy.ep_info as Row), ep_id: '3', device_id: uuid };
      expect((await post(legacy)).status).toBe(200);
      expect((await post(v2)).status).toBe(200);
      const before = await recordAt(1710000900001);
      const after = await recordAt(1710000900002);
      expect(before.media_device_id).toBe(after.media_device_id);
      expect(before.device_external_id).toBe(uuid);
      expect(parse(before.extra)).toMatchObject({ media_device_info: { ep_id: '3' } });
      expect(await count('media_devices', `box_id = '${String(before.box_id)}'`)).toBe(1);
    });

    it('stores an unknown person_type, a short or out-of-range feature and a bad picture as defects named as sent', async () => {
      const base = toLegacy(readFixture('small/000002.json'));
      const attr = base.recognize_face_attr as Row;
      const cases: [Row, { field: string; code: string }[]][] = [
        [{ person_type: 9 }, [{ field: 'person_type', code: 'unknown_value' }]],
        [{ recognize_face_attr: { ...attr, feature: [0.1, 0.2] } }, [{ field: 'recognize_face_attr.feature', code: 'wrong_length' }]],
        [
          { recognize_face_attr: { ...attr, feature: Array(512).fill(1e39) } },
          [{ field: 'recognize_face_attr.feature', code: 'not_finite' }],
        ],
        [
          { recognize_face_attr: { ...attr, feature: Array(512).fill('x') } },
          [{ field: 'recognize_face_attr.feature', code: 'invalid_type' }],
        ],
        [{ spot_pic: 'not base64!' }, [{ field: 'spot_pic', code: 'invalid_base64' }]],
        [{ ep_info: { ...(base.ep_info as Row), ep_type: 'hologram' } }, [{ field: 'ep_info.ep_type', code: 'unknown_value' }]],
      ];
      for (const [i, [change, expected]] of cases.entries()) {
        const ts = 1710000200000 + i;
        const res = await post({ ...base, ...change, timestamp: ts });
        expect(res.status).toBe(200);
        const r = await recordAt(ts);
        expect(defectsOf(r).map(({ field, code }) => ({ field, code }))).toEqual(expected);
        expect(r.has_defects === true || r.has_defects === 1).toBe(true);
        for (const d of defectsOf(r)) expect(d.message).not.toMatch(/spot_image|media_device_info|feature_base64_str|user_type/);
      }
      expect((await recordAt(1710000200000)).feature).not.toBeNull();
      expect((await recordAt(1710000200001)).feature).toBeNull();
    });

    it.each([
      ['no dev_sno', (r: Row) => ({ ...r, dev_sno: undefined }), 'dev_sno'],
      ['a numeric dev_sno', (r: Row) => ({ ...r, dev_sno: 42 }), 'dev_sno'],
      ['no ep_info', (r: Row) => ({ ...r, ep_info: undefined }), 'ep_info.ep_id'],
      ['ep_info without ep_id', (r: Row) => ({ ...r, ep_info: { ep_type: 'rtsp' } }), 'ep_info.ep_id'],
      ['ep_info not an object', (r: Row) => ({ ...r, ep_info: 'cam' }), 'ep_info'],
      ['a bad timestamp', (r: Row) => ({ ...r, timestamp: 'soon' }), 'timestamp'],
    ])('answers 400 naming the legacy field for %s', async (_n, change, field) => {
      const before = await count('recognition_records');
      const res = await post(change({ ...toLegacy(readFixture('small/000003.json')), timestamp: 1710000300000 }));
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ statusCode: 400, field });
      expect(res.body.message).toContain(field.split('.').pop());
      expect(await count('recognition_records')).toBe(before);
    });
  });

  describe('hostile input', () => {
    const valid = (ts: number): Row => ({ ...readFixture('small/000004.json'), timestamp: ts });

    it.each([
      ['nesting deeper than 32 in an unknown field', () => JSON.stringify({ ...valid(1710000400000), x: nest(40) })],
      ['100,000 levels of nesting', () => '['.repeat(100_000) + ']'.repeat(100_000)],
      ['100,000 levels inside a record', () => `{"mq_license_key":"K","deep":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}`],
    ])('answers 400 (no stack overflow) for %s', async (_n, body) => {
      const res = await post(body());
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ statusCode: 400 });
      expect(res.body.message).toMatch(/nested deeper than 32/);
    });

    it('accepts nesting of exactly 32 levels in an unknown field', async () => {
      const res = await post({ ...valid(1710000400001), x: nest(31) }); // the record is level 1, x level 2 … 32
      expect(res.status).toBe(200);
    });

    it.each([
      ['__proto__ at the top', '{"__proto__":{"polluted":1},"mq_license_key":"K"}', '__proto__'],
      ['constructor.prototype', '{"constructor":{"prototype":{"polluted":1}}}', 'constructor'],
      ['__proto__ inside media_device_info', null, 'media_device_info.__proto__'],
      ['prototype inside an array item', '[{"a":[{"prototype":1}]}]', '[0].a[0].prototype'],
    ])('answers 400 for %s and pollutes nothing', async (_n, raw, field) => {
      const body =
        raw ?? JSON.stringify(valid(1710000400002)).replace('"media_device_info":{', '"media_device_info":{"__proto__":{"polluted":1},');
      const res = await post(body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ statusCode: 400, field });
      expect(({} as Row).polluted).toBeUndefined();
      expect((Object.prototype as Row).polluted).toBeUndefined();
    });

    it('answers 413 to a declared Content-Length over the limit before the body is sent', async () => {
      // Only the headers go out: a 413 arriving proves the hub did not wait to read the body.
      const res = await rawRequest(t, { 'content-type': 'application/json', 'content-length': String(50 * 1024 * 1024) }, '{"a":');
      expect(res.status).toBe(413);
      expect(JSON.parse(res.body)).toMatchObject({ statusCode: 413, field: 'body' });
    });

    it('answers 413 to a chunked body that grows past the limit', async () => {
      const big = JSON.stringify({ ...valid(1710000400003), x: 'A'.repeat(1_100_000) });
      const res = await rawRequest(t, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, big);
      expect(res.status).toBe(413);
    });

    it.each(['gzip', 'deflate', 'br', 'x-custom'])('answers 415 to Content-Encoding %s', async (encoding) => {
      const res = await t
        .http()
        .post(CALLBACK_PATH)
        .set('content-type', 'application/json')
        .set('content-encoding', encoding)
        .send(JSON.stringify(valid(1710000400004)));
      expect(res.status).toBe(415);
      expect(res.body).toMatchObject({ statusCode: 415, field: 'body' });
    });

    it('answers 415 to a charset other than UTF-8, and takes utf-8 in any spelling', async () => {
      const send = (type: string, ts: number) =>
        t
          .http()
          .post(CALLBACK_PATH)
          .set('content-type', type)
          .send(JSON.stringify(valid(ts)));
      const refused = await send('application/json; charset=iso-8859-1', 1710000400006);
      expect(refused.status).toBe(415);
      expect(refused.body).toMatchObject({ statusCode: 415, field: 'body' });
      expect((await send('application/json; charset="UTF8"', 1710000400007)).status).toBe(200);
    });

    it('accepts Content-Encoding identity', async () => {
      const res = await t
        .http()
        .post(CALLBACK_PATH)
        .set('content-type', 'application/json')
        .set('content-encoding', 'identity')
        .send(JSON.stringify(valid(1710000400005)));
      expect(res.status).toBe(200);
    });

    it('records images that are not images, too large, truncated or badly encoded as defects, never storing them', async () => {
      const jpeg = Buffer.from(readFixture('typical/000000.json').recognize_face_image as string, 'base64');
      expect(jpeg.length).toBeLessThan(262144);
      const cases: [string, string][] = [
        [Buffer.from('GIF89a-not-a-jpeg-at-all').toString('base64'), 'unrecognised_format'],
        [Buffer.concat([jpeg.subarray(0, 4), Buffer.alloc(270_000)]).toString('base64'), 'too_large'],
        [jpeg.subarray(0, jpeg.length - 200).toString('base64'), 'truncated_image'],
        [`${jpeg.toString('base64').slice(0, -4)}@@@@`, 'invalid_base64'],
        [jpeg.toString('base64').slice(1), 'invalid_base64'],
        [`data:image/jpeg;base64,${jpeg.toString('base64')}\n`, 'invalid_base64'],
      ];
      for (const [i, [image, code]] of cases.entries()) {
        const ts = 1710000500000 + i;
        const res = await post({ ...valid(ts), spot_image: image, recognize_face_image: jpeg.toString('base64') });
        expect(res.status).toBe(200);
        const r = await recordAt(ts);
        expect(defectsOf(r)).toEqual([expect.objectContaining({ field: 'spot_image', code })]);
        expect(r.spot_image_sha256).toBeNull();
        expect(r.face_image_sha256).toMatch(/^[0-9a-f]{64}$/);
      }
    });

    it('records a feature of the wrong length or holding NaN/Infinity as a defect', async () => {
      const nan = Buffer.alloc(2048);
      nan.writeFloatLE(NaN, 40);
      const inf = Buffer.alloc(2048);
      inf.writeFloatLE(Infinity, 0);
      const cases: [string, string][] = [
        [Buffer.alloc(2044).toString('base64'), 'wrong_length'],
        [nan.toString('base64'), 'not_finite'],
        [inf.toString('base64'), 'not_finite'],
      ];
      for (const [i, [feature, code]] of cases.entries()) {
        const ts = 1710000600000 + i;
        const p = valid(ts);
        const res = await post({ ...p, recognize_face_attr: { ...(p.recognize_face_attr as Row), feature_base64_str: feature } });
        expect(res.status).toBe(200);
        const r = await recordAt(ts);
        expect(defectsOf(r)).toEqual([expect.objectContaining({ field: 'recognize_face_attr.feature_base64_str', code })]);
        expect(r.feature).toBeNull();
      }
    });

    it('keeps error bodies small and free of image or feature data', async () => {
      const p = readFixture('typical/000001.json');
      const bad = [
        { ...p, timestamp: 'never' },
        { ...p, mq_license_key: p.spot_image },
        { ...p, media_device_info: { media_device_id: p.recognize_face_image } },
        { ...p, spot_image: { nested: p.spot_image }, timestamp: {} },
      ];
      const feature = (p.recognize_face_attr as Row).feature_base64_str as string;
      for (const body of bad) {
        const res = await post(body);
        expect(res.status).toBe(400);
        const text = JSON.stringify(res.body);
        expect(text.length).toBeLessThan(400);
        for (const secret of [p.spot_image, p.recognize_face_image, p.reg_image, feature] as string[]) {
          expect(text).not.toContain(secret.slice(0, 40));
        }
      }
    });
  });
});

function nest(levels: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < levels; i++) v = { n: v };
  return v;
}

/** A request written by hand, to control headers supertest would fix up (Content-Length, chunking). */
async function rawRequest(t: TestApp, headers: Record<string, string>, body: string): Promise<{ status: number; body: string }> {
  const server = t.app.getHttpServer() as http.Server;
  if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: CALLBACK_PATH, headers }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, body: text });
      });
    });
    // The hub may close the connection while we write: that is the point.
    req.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' || e.code === 'ECONNRESET' ? undefined : reject(e)));
    req.write(body);
    if (!headers['content-length']) req.end();
  });
}
