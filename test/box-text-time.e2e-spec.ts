import { createApiKey } from './helpers/api-client';
import { CALLBACK_PATH, readFixture, startTestApp, TestApp } from './helpers/test-app';
import { describeDb, queryRows } from './helpers/test-database';
import { toLegacy } from './box-edge-legacy';

type Row = Record<string, unknown>;
type Defect = { field: string; code: string; message: string };

const parse = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v);
const NUL = '\u0000';
const DAY = 24 * 60 * 60 * 1000;
const YEAR_9999 = Date.UTC(9999, 11, 31, 23, 59, 59);
const YEAR_1900 = Date.UTC(1900, 0, 1);

/** Text PostgreSQL cannot hold (NUL) and text no database can encode (unpaired surrogates), per field. */
describeDb('box edge: unstorable text and out-of-range times', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  const post = (body: unknown) => t.http().post(CALLBACK_PATH).set('content-type', 'application/json').send(JSON.stringify(body));
  const base = (ts: number): Row => {
    const r: Row = { ...readFixture('small/000004.json'), timestamp: ts };
    r.media_device_info = { ...(r.media_device_info as Row) };
    r.recognize_face_attr = { ...(r.recognize_face_attr as Row) };
    return r;
  };
  /** Every record stored with this box timestamp, with its media device and identity. */
  const recordsAt = (boxTimestamp: number): Promise<Row[]> =>
    queryRows(
      t.dataSource,
      `SELECT r.*, m.device_id AS m_device_id, m.name AS m_name, m.ip AS m_ip, m.type AS m_type, m.url AS m_url,
         i.external_id AS i_external_id, i.name AS i_name, i.last_seen_at AS i_last_seen_at
       FROM recognition_records r JOIN media_devices m ON m.id = r.media_device_id
       LEFT JOIN identities i ON i.id = r.identity_id
       WHERE r.box_timestamp = ? ORDER BY r.device_external_id`,
      [boxTimestamp],
    );
  const onlyRecordAt = async (boxTimestamp: number): Promise<Row> => {
    const rows = await recordsAt(boxTimestamp);
    expect(rows).toHaveLength(1);
    return rows[0];
  };
  const defectsOf = (r: Row) => parse(r.defects) as Defect[];
  const countRecords = async () => Number((await t.dataSource.query('SELECT COUNT(*) AS n FROM recognition_records'))[0].n);

  describe('NUL in a text field: answered 200, stored cleaned with a defect, a retry deduplicated', () => {
    const device = (r: Row) => r.media_device_info as Row;
    const attr = (r: Row) => r.recognize_face_attr as Row;
    const cases: [field: string, change: (r: Row) => void, check: (stored: Row) => void][] = [
      [
        'identity_name',
        (r) => (r.identity_name = `Wang${NUL}Fang`),
        (s) => expect([s.identity_name, s.i_name]).toEqual(['WangFang', 'WangFang']),
      ],
      ['user_type', (r) => (r.user_type = `visitor${NUL}`), (s) => expect(s.user_type).toBe('visitor')],
      ['post_action', (r) => (r.post_action = `0${NUL}`), (s) => expect(s.post_action).toBe('0')],
      ['api_version', (r) => (r.api_version = `2.0${NUL}`), (s) => expect(s.api_version).toBe('2.0')],
      [
        'media_device_info.media_device_name',
        (r) => (device(r).media_device_name = `Back${NUL}door`),
        (s) => expect(s.m_name).toBe('Backdoor'),
      ],
      ['media_device_info.media_device_ip', (r) => (device(r).media_device_ip = `10.0.0.1${NUL}`), (s) => expect(s.m_ip).toBe('10.0.0.1')],
      ['media_device_info.media_device_type', (r) => (device(r).media_device_type = `rtsp${NUL}`), (s) => expect(s.m_type).toBe('rtsp')],
      [
        'media_device_info.media_device_url',
        (r) => (device(r).media_device_url = `rtsp://x${NUL}/y`),
        (s) => expect(s.m_url).toBe('rtsp://x/y'),
      ],
      ['recognize_face_attr.gender', (r) => (attr(r).gender = `male${NUL}`), (s) => expect(parse(s.attributes).gender).toBe('male')],
      [
        'firmware_note',
        (r) => (r.firmware_note = { note: `a${NUL}b`, list: [`c${NUL}`] }),
        (s) => expect(parse(s.extra).firmware_note).toEqual({ note: 'ab', list: ['c'] }),
      ],
      // In keys NUL shows as U+2400: removing it could merge two keys or spell "__proto__".
      [
        'odd\u2400_key',
        (r) => Object.assign(r, { [`odd${NUL}_key`]: 1, odd_key: 2 }),
        (s) => expect(parse(s.extra)).toEqual({ 'odd\u2400_key': 1, odd_key: 2 }),
      ],
      [
        'sneaky',
        (r) => (r.sneaky = JSON.parse(`{"__pro\\u0000to__": {"polluted": true}}`)),
        (s) => expect(parse(s.extra).sneaky).toEqual({ '__pro\u2400to__': { polluted: true } }),
      ],
      [
        'media_device_info.vendor',
        (r) => (device(r).vendor = `v${NUL}`),
        (s) => expect(parse(s.extra).media_device_info).toEqual({ vendor: 'v' }),
      ],
      // Identifying: NUL shows as U+2400, so "cam<NUL>1" cannot merge with a device really called "cam1".
      [
        'identity_id',
        (r) => (r.identity_id = `0120${NUL}0003`),
        (s) => expect([s.identity_external_id, s.i_external_id]).toEqual(['0120\u24000003', '0120\u24000003']),
      ],
      [
        'media_device_info.media_device_id',
        (r) => (device(r).media_device_id = `cam${NUL}1`),
        (s) => expect([s.device_external_id, s.m_device_id]).toEqual(['cam\u24001', 'cam\u24001']),
      ],
    ];

    it.each(cases.map((c, i) => [...c, i] as const))('%s', async (field, change, check, i) => {
      const ts = 1712000000000 + i;
      const record = base(ts);
      change(record);
      const res = await post(record);
      expect(res.status).toBe(200);
      const stored = await onlyRecordAt(ts);
      check(stored);
      expect(defectsOf(stored)).toContainEqual(expect.objectContaining({ field, code: 'unstorable_characters' }));
      expect(stored.has_defects === true || stored.has_defects === 1).toBe(true);
      for (const d of defectsOf(stored)) expect(d.message).not.toContain(NUL);

      const before = await countRecords();
      expect((await post(record)).status).toBe(200);
      expect(await countRecords()).toBe(before);
    });

    it('keeps a media device or identity id with NUL apart from the same id without it', async () => {
      const ts = 1712000001000;
      const plain = base(ts);
      (plain.media_device_info as Row).media_device_id = 'cam1';
      const withNul = base(ts);
      (withNul.media_device_info as Row).media_device_id = `cam${NUL}1`;
      expect((await post(plain)).status).toBe(200);
      expect((await post(withNul)).status).toBe(200);
      const rows = await recordsAt(ts);
      expect(rows.map((r) => r.device_external_id)).toEqual(['cam1', 'cam\u24001']);
      expect(defectsOf(rows[1])[0].message).toContain('sent as "cam\\u00001"');
    });

    it('cleans older-firmware fields the same way, and names them as sent', async () => {
      const ts = 1712000002000;
      const legacy = toLegacy(base(ts));
      legacy.identity_name = `Wang${NUL}`;
      (legacy.ep_info as Row).ep_name = `gate${NUL}`;
      (legacy.ep_info as Row).ep_id = `ep${NUL}`;
      legacy.person_type = `9${NUL}`;
      expect((await post(legacy)).status).toBe(200);
      const stored = await onlyRecordAt(ts);
      expect([stored.identity_name, stored.m_name, stored.device_external_id]).toEqual(['Wang', 'gate', 'ep\u2400']);
      const defects = defectsOf(stored);
      expect(
        defects
          .filter((d) => d.code === 'unstorable_characters')
          .map((d) => d.field)
          .sort(),
      ).toEqual(['ep_info.ep_id', 'ep_info.ep_name', 'identity_name']);
      expect(defects.find((d) => d.field === 'person_type')!.message).not.toContain(NUL);
    });

    it.each([
      ['mq_license_key', (r: Row) => (r.mq_license_key = `KEY${NUL}1`), 'mq_license_key'],
      ['mq_license_key with an unpaired surrogate', (r: Row) => (r.mq_license_key = 'KEY\ud800'), 'mq_license_key'],
      ['dev_sno (older firmware)', (r: Row) => Object.assign(r, toLegacy(r), { dev_sno: `KEY${NUL}` }), 'dev_sno'],
    ])('refuses a license key with %s: 400 naming the field, nothing stored', async (_name, change, field) => {
      const record = base(1712000003000);
      change(record);
      for (const k of ['mq_license_key', 'media_device_info']) if (field === 'dev_sno') delete record[k];
      const before = await countRecords();
      const res = await post(record);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ statusCode: 400, field });
      expect(res.body.message).toContain('NUL');
      expect(await countRecords()).toBe(before);
    });
  });

  describe('unpaired UTF-16 surrogates', () => {
    it('are replaced by U+FFFD with a defect, the same on every database; paired ones are kept', async () => {
      const ts = 1712000004000;
      const record = base(ts);
      record.identity_name = 'A\ud800B\udc00C 😀';
      (record.media_device_info as Row).media_device_id = 'cam\udfff';
      record.identity_id = 'id\ud83d';
      record.note = { '\ud800k': 'v\udc00' };
      const res = await post(record);
      expect(res.status).toBe(200);
      const stored = await onlyRecordAt(ts);
      expect(stored.identity_name).toBe('A\ufffdB\ufffdC 😀');
      expect(stored.device_external_id).toBe('cam\ufffd');
      expect(stored.identity_external_id).toBe('id\ufffd');
      expect(parse(stored.extra).note).toEqual({ '\ufffdk': 'v\ufffd' });
      const fields = defectsOf(stored)
        .filter((d) => d.code === 'unstorable_characters')
        .map((d) => d.field)
        .sort();
      expect(fields).toEqual(['identity_id', 'identity_name', 'media_device_info.media_device_id', 'note']);

      const before = await countRecords();
      expect((await post(record)).status).toBe(200);
      expect(await countRecords()).toBe(before);

      const clean = base(ts + 1);
      clean.identity_name = 'Zoë 😀';
      expect((await post(clean)).status).toBe(200);
      const kept = await onlyRecordAt(ts + 1);
      expect(kept.identity_name).toBe('Zoë 😀');
      expect(defectsOf(kept)).toEqual([]);
    });
  });

  describe('timestamps outside 2000-01-01 .. receive time + 1 day', () => {
    it.each([
      ['year 9999', YEAR_9999],
      ['year 1900', YEAR_1900],
      ['year 1900, as a string', String(YEAR_1900 + 1)],
      ['1970 (zero)', 0],
      ['two days ahead', Date.now() + 2 * DAY],
    ])('%s: stored at the receive time with the box time kept and a defect; a retry deduplicated', async (_name, timestamp) => {
      const sent = Number(timestamp);
      const record = { ...base(0), timestamp, identity_id: `clock-${sent}` };
      const before = Date.now();
      const res = await post(record);
      const after = Date.now();
      expect(res.status).toBe(200);
      const stored = await onlyRecordAt(sent);
      expect(Number(stored.box_timestamp)).toBe(sent);
      expect(Number(stored.occurred_at)).toBeGreaterThanOrEqual(before);
      expect(Number(stored.occurred_at)).toBeLessThanOrEqual(after);
      // The identity's last sighting is not pushed into the far future (or past) by a wrong clock.
      expect(Number(stored.i_last_seen_at)).toBe(Number(stored.occurred_at));
      expect(defectsOf(stored)).toContainEqual(expect.objectContaining({ field: 'timestamp', code: 'timestamp_out_of_range' }));
      expect(defectsOf(stored).find((d) => d.field === 'timestamp')!.message).toContain(String(sent));

      const count = await countRecords();
      for (let i = 0; i < 2; i++) expect((await post(record)).status).toBe(200);
      expect(await countRecords()).toBe(count);
      expect(await recordsAt(sent)).toHaveLength(1);
    });

    it('keeps an in-window time as the event time, without a defect', async () => {
      const ts = Date.UTC(2000, 0, 1);
      expect((await post({ ...base(ts), in_timestamp: undefined, out_timestamp: undefined })).status).toBe(200);
      const stored = await onlyRecordAt(ts);
      expect(Number(stored.occurred_at)).toBe(ts);
      expect(defectsOf(stored)).toEqual([]);
    });

    it('keeps an out-of-range in_timestamp or out_timestamp as sent, with a defect', async () => {
      const ts = 1712000005000;
      expect((await post({ ...base(ts), in_timestamp: YEAR_9999, out_timestamp: String(YEAR_1900) })).status).toBe(200);
      const stored = await onlyRecordAt(ts);
      expect([Number(stored.entered_at), Number(stored.left_at)]).toEqual([YEAR_9999, YEAR_1900]);
      expect(
        defectsOf(stored)
          .filter((d) => d.code === 'timestamp_out_of_range')
          .map((d) => d.field),
      ).toEqual(['in_timestamp', 'out_timestamp']);
    });
  });

  describe('REST API: operator input no database can store is refused with 400, never 500', () => {
    it('in a query filter, a body field or a path parameter', async () => {
      const admin = (await createApiKey(t, 'admin')).key;
      const boxes = await t.http().get('/boxes').set('x-api-key', admin).expect(200);
      const boxId = boxes.body.items[0].id as string;
      const identities = await t.http().get('/identities').set('x-api-key', admin).expect(200);
      const identityId = identities.body.items[0].id as string;
      const cases = [
        [t.http().get('/identities?q=a%00b'), 'q'],
        [t.http().get('/records?identityExternalId=x%00'), 'identityExternalId'],
        [
          t
            .http()
            .patch(`/boxes/${boxId}`)
            .send({ name: `gate${NUL}` }),
          'name',
        ],
        [t.http().patch(`/identities/${identityId}`).set('content-type', 'application/json').send('{"name":"Ann\\ud800"}'), 'name'],
        [t.http().get(`/boxes/${boxId}%00`), 'id'],
      ] as const;
      for (const [req, field] of cases) {
        const res = await req.set('x-api-key', admin);
        expect([res.status, res.body.field]).toEqual([400, field]);
        expect(res.body.message).toContain('NUL');
      }
    });
  });
});
