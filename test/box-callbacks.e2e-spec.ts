import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CALLBACK_PATH, fixtureFiles, readFixture, startTestApp, TestApp } from './helpers/test-app';
import { describeDb, queryRows } from './helpers/test-database';
import { eventually } from './helpers/eventually';

type Row = Record<string, unknown>;

const IMAGE_COLUMNS: Record<string, string> = {
  reg_image: 'reg_image_sha256',
  spot_image: 'spot_image_sha256',
  ir_image: 'ir_image_sha256',
  recognize_face_image: 'face_image_sha256',
};

function decodeWireBase64(s: string): Buffer {
  return Buffer.from(s.replace(/^data:[^,]*,/, ''), 'base64');
}

function parseJson(v: unknown): unknown {
  return typeof v === 'string' ? JSON.parse(v) : v;
}

function asBuffer(v: unknown): Buffer | null {
  if (v === null || v === undefined) return null;
  return Buffer.isBuffer(v) ? v : Buffer.from(v as Uint8Array);
}

describeDb('box callback ingestion', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
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
  const count = async (table: string, where = '1=1') =>
    Number((await t.dataSource.query(`SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`))[0].n);
  const recordFor = async (p: Row): Promise<Row> => {
    const rows = await queryRows(
      t.dataSource,
      `SELECT r.*, b.license_key, m.device_id AS m_device_id, m.type AS m_type, m.ip AS m_ip, m.name AS m_name, m.url AS m_url
       FROM recognition_records r JOIN boxes b ON b.id = r.box_id JOIN media_devices m ON m.id = r.media_device_id
       WHERE b.license_key = ? AND r.occurred_at = ? AND r.identity_external_id = ?`,
      [p.mq_license_key, Number(p.timestamp), String(p.identity_id ?? '')],
    );
    expect(rows).toHaveLength(1);
    return rows[0];
  };

  async function expectStoredExactly(p: Row): Promise<Row> {
    const r = await recordFor(p);
    const device = p.media_device_info as Row;
    const attr = p.recognize_face_attr as Row;
    expect(r.license_key).toBe(p.mq_license_key);
    expect(r.m_device_id).toBe(device.media_device_id);
    expect(r.device_external_id).toBe(device.media_device_id);
    expect(r.m_type).toBe(device.media_device_type ?? null);
    expect(r.m_ip).toBe(device.media_device_ip ?? null);
    expect(r.m_name).toBe(device.media_device_name ?? null);
    expect(r.m_url).toBe(device.media_device_url ?? null);
    expect(r.identity_external_id).toBe(p.identity_id);
    expect(r.identity_name).toBe(p.identity_name);
    expect(r.user_type).toBe(p.user_type);
    expect(r.post_action).toBe(p.post_action);
    expect(r.api_version).toBe(p.api_version);
    expect(Number(r.occurred_at)).toBe(Number(p.timestamp));
    expect(Number(r.entered_at)).toBe(p.in_timestamp);
    expect(Number(r.left_at)).toBe(p.out_timestamp);
    expect(Number(r.score_raw)).toBe(p.score);
    expect(Number(r.score)).toBeCloseTo((p.score as number) > 1 ? (p.score as number) / 100 : (p.score as number), 10);
    expect(parseJson(r.landmarks)).toEqual(attr.point);
    expect(parseJson(r.face_box)).toEqual(attr.box);
    const attrs = parseJson(r.attributes) as Row;
    for (const k of ['mask', 'gender', 'hat', 'age', 'glasses', 'expression']) expect(attrs[k]).toBe(attr[k] ?? null);

    const feature = asBuffer(r.feature);
    const wireFeature = (attr.feature_base64_str ?? attr.feature_binary) as string;
    if (feature) expect(feature.equals(Buffer.from(wireFeature, 'base64'))).toBe(true);

    for (const [field, column] of Object.entries(IMAGE_COLUMNS)) {
      const wire = p[field] as string | undefined;
      const sha = r[column] as string | null;
      if (!wire || sha === null) continue;
      const expected = decodeWireBase64(wire);
      expect(sha).toBe(createHash('sha256').update(expected).digest('hex'));
      const file = path.join(t.db.dataDir, 'images', sha.slice(0, 2), sha.slice(2, 4), sha);
      expect(fs.readFileSync(file).equals(expected)).toBe(true);
    }
    return r;
  }

  it('stores every typical and small fixture field by field, images byte-identical', async () => {
    const files = [...fixtureFiles('typical'), ...fixtureFiles('small')];
    for (const f of files) {
      const res = await post(readFixture(f));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ code: 0, message: 'ok' });
    }
    for (const f of files) {
      const p = readFixture(f);
      const r = await expectStoredExactly(p);
      expect(parseJson(r.defects)).toEqual([]);
      expect(asBuffer(r.feature)?.length).toBe(2048);
      if (p.reg_image) expect(r.reg_image_sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(r.ir_image_sha256).toBeNull();
    }
    expect(await count('recognition_records')).toBe(files.length);
  });

  it("stores a record shaped like the vendor's documented example, with its cut-short images and feature flagged as defects", async () => {
    const p = readFixture('truncated-images.json');
    const res = await post(p);
    expect(res.status).toBe(200);
    const r = await recordFor(p);
    const defects = parseJson(r.defects) as { field: string; code: string }[];
    expect(defects.map((d) => d.field).sort()).toEqual(
      ['recognize_face_attr.feature_base64_str', 'recognize_face_image', 'reg_image', 'spot_image'].sort(),
    );
    expect(r.has_defects === true || r.has_defects === 1).toBe(true);
    expect(r.reg_image_sha256).toBeNull();
    expect(r.feature).toBeNull();
    expect(r.m_url).toBeNull(); // documented as required, missing in the vendor's example too
    expect(Number(r.score)).toBeCloseTo(0.948, 10);
  });

  it('answers a resent event 200 and stores nothing new', async () => {
    const p = readFixture('typical/000003.json');
    // Listeners (alert rules, persons) write events of their own while the relay handles earlier pushes: let them finish.
    await eventually(async () => (await count('outbox_events', 'processed_at IS NULL')) === 0, 'outbox relayed');
    const before = {
      records: await count('recognition_records'),
      outbox: await count('outbox_events'),
      images: await count('stored_images'),
    };
    for (let i = 0; i < 3; i++) {
      const res = await post(p);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ code: 0, message: 'ok' });
    }
    expect(await count('recognition_records')).toBe(before.records);
    expect(await count('outbox_events')).toBe(before.outbox);
    expect(await count('stored_images')).toBe(before.images);
  });

  it('stores one record when 20 copies of a new event arrive at once', async () => {
    const p = { ...readFixture('typical/000001.json'), timestamp: 1700000000001 };
    const results = await Promise.all(Array.from({ length: 20 }, () => post(p)));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(await count('recognition_records', 'occurred_at = 1700000000001')).toBe(1);
    expect(await count('outbox_events', `aggregate_id = '${(await recordFor(p)).id}'`)).toBeGreaterThanOrEqual(1);
  });

  it('stores all of 50 distinct records sent concurrently', async () => {
    const base = readFixture('typical/000002.json');
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => post({ ...base, timestamp: 1700000100000 + i })));
    expect(results.map((r) => r.status)).toEqual(Array(50).fill(200));
    expect(await count('recognition_records', 'occurred_at BETWEEN 1700000100000 AND 1700000100049')).toBe(50);
  });

  it('accepts a JSON array of records in one push', async () => {
    const items = fixtureFiles('small')
      .slice(0, 5)
      .map((f, i) => ({ ...readFixture(f), timestamp: 1700000200000 + i }));
    const res = await post(items);
    expect(res.status).toBe(200);
    expect(await count('recognition_records', 'occurred_at BETWEEN 1700000200000 AND 1700000200004')).toBe(5);
  });

  it('handles the wire quirks: numeric-string timestamp, 0-1 score, data URI images, feature_binary, nulls', async () => {
    const src = readFixture('typical/000000.json');
    const attr = { ...(src.recognize_face_attr as Row) };
    attr.feature_binary = attr.feature_base64_str;
    delete attr.feature_base64_str;
    const p = {
      ...src,
      timestamp: '1700000300000',
      score: 0.873,
      spot_image: `data:image/jpeg;base64,${src.spot_image as string}`,
      identity_name: null,
      in_timestamp: null,
      recognize_face_attr: attr,
      firmware_extra: { lane: 3 },
    };
    const res = await post(p);
    expect(res.status).toBe(200);
    const r = await recordFor({ ...p, identity_id: src.identity_id });
    expect(Number(r.occurred_at)).toBe(1700000300000);
    expect(Number(r.score_raw)).toBeCloseTo(0.873, 10);
    expect(Number(r.score)).toBeCloseTo(0.873, 10);
    expect(r.identity_name).toBeNull();
    expect(r.entered_at).toBeNull();
    expect(asBuffer(r.feature)!.equals(Buffer.from(attr.feature_binary as string, 'base64'))).toBe(true);
    expect(r.spot_image_sha256).toBe(
      createHash('sha256')
        .update(decodeWireBase64(src.spot_image as string))
        .digest('hex'),
    );
    expect(parseJson(r.extra)).toEqual({ firmware_extra: { lane: 3 } });
    expect(parseJson(r.defects)).toEqual([]);
  });

  it('registers the box and media device on first sight and keeps them current', async () => {
    const p: Row = { ...readFixture('small/000004.json'), mq_license_key: 'BOX-FIRST-SIGHT', timestamp: 1700000400000 };
    expect((await post(p)).status).toBe(200);
    const device = p.media_device_info as Row;
    const renamed = {
      ...p,
      timestamp: 1700000400001,
      media_device_info: { ...device, media_device_name: 'Lobby', media_device_ip: '10.9.9.9' },
    };
    expect((await post(renamed)).status).toBe(200);
    const boxes: Row[] = await t.dataSource.query(`SELECT * FROM boxes WHERE license_key = 'BOX-FIRST-SIGHT'`);
    expect(boxes).toHaveLength(1);
    expect(boxes[0].api_version).toBe('2.0');
    expect(boxes[0].last_address).toMatch(/127\.0\.0\.1|::1/);
    expect(Number(boxes[0].last_seen_at)).toBeGreaterThanOrEqual(Number(boxes[0].first_seen_at));
    const devices: Row[] = await t.dataSource.query(`SELECT * FROM media_devices WHERE box_id = '${boxes[0].id}'`);
    expect(devices).toHaveLength(1);
    expect(devices[0].name).toBe('Lobby');
    expect(devices[0].ip).toBe('10.9.9.9');
    const ids: Row[] = await t.dataSource.query(`SELECT * FROM identities WHERE external_id = '${p.identity_id}'`);
    expect(ids).toHaveLength(1);
    expect(ids[0].name).toBe(p.identity_name);
    expect(ids[0].user_type).toBe(p.user_type);
  });

  describe('garbage is refused with 400 naming the field, and nothing is stored', () => {
    const valid = () => ({ ...readFixture('small/000000.json'), timestamp: 1700000500000 });
    const cases: [string, () => unknown, string][] = [
      ['a body that is not JSON', () => 'not json at all', 'body'],
      ['a JSON string', () => '"hello"', 'body'],
      ['a JSON number', () => '42', 'body'],
      ['an empty array', () => '[]', 'body'],
      ['an array holding a non-object', () => JSON.stringify([valid(), 7]), '[1]'],
      ['no mq_license_key', () => ({ ...valid(), mq_license_key: undefined }), 'mq_license_key'],
      ['an empty mq_license_key', () => ({ ...valid(), mq_license_key: '' }), 'mq_license_key'],
      ['a numeric mq_license_key', () => ({ ...valid(), mq_license_key: 12345 }), 'mq_license_key'],
      ['no timestamp', () => ({ ...valid(), timestamp: undefined }), 'timestamp'],
      ['a non-numeric timestamp', () => ({ ...valid(), timestamp: 'yesterday' }), 'timestamp'],
      ['a fractional timestamp', () => ({ ...valid(), timestamp: 1.5 }), 'timestamp'],
      ['no media_device_info', () => ({ ...valid(), media_device_info: undefined }), 'media_device_info.media_device_id'],
      ['media_device_info not an object', () => ({ ...valid(), media_device_info: 'cam' }), 'media_device_info'],
      ['no media_device_id', () => ({ ...valid(), media_device_info: { media_device_type: 'rtsp' } }), 'media_device_info.media_device_id'],
      [
        'a bad record inside an array',
        () => [valid(), { ...valid(), timestamp: 1700000500001, mq_license_key: null }],
        '[1].mq_license_key',
      ],
    ];
    it.each(cases)('%s', async (_name, body, field) => {
      const before = await count('recognition_records');
      const raw = body();
      const res = await t
        .http()
        .post(CALLBACK_PATH)
        .set('content-type', 'application/json')
        .send(typeof raw === 'string' ? raw : JSON.stringify(raw));
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/application\/json/);
      expect(res.body).toMatchObject({ statusCode: 400, field });
      expect(typeof res.body.message).toBe('string');
      expect(await count('recognition_records')).toBe(before);
    });
  });

  it('never echoes the body in an error', async () => {
    const res = await t.http().post(CALLBACK_PATH).set('content-type', 'application/json').send('{"spot_image":"SECRETDATA');
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).not.toContain('SECRETDATA');
  });
});
