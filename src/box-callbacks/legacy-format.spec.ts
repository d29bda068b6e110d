import { featureFromList, isLegacyRecord, LEGACY_API_VERSION, normaliseRecord } from './legacy-format';
import { RecordDefect } from '../recognition-records/recognition-record.types';

const legacy = () => ({
  dev_sno: 'BOX-1',
  timestamp: 1629080261881,
  want_action: 1001,
  person_type: 4,
  ep_info: { ep_id: 'cam-1', ep_type: 'rtsp', ep_ip: '10.0.0.2', ep_name: 'Gate', device_id: 'd-9' },
  reg_pic: 'AAAA',
  spot_pic: '',
  ir_pic: '',
  recognize_face: 'BBBB',
  recognize_face_attr: { feature: Array.from({ length: 512 }, (_, i) => i / 512), box: [1, 2, 3, 4] },
  firmware_note: 'kept',
});

describe('older firmware format', () => {
  it('is recognised by its names, and a v2.0 record is left alone', () => {
    expect(isLegacyRecord(legacy())).toBe(true);
    expect(isLegacyRecord({ person_type: 1 })).toBe(true);
    const v2 = { mq_license_key: 'K', media_device_info: { media_device_id: 'x' }, person_type: 1 };
    expect(isLegacyRecord(v2)).toBe(false);
    const n = normaliseRecord(v2);
    expect(n.record).toBe(v2);
    expect(n.format).toBe('v2');
    expect(n.wireName('mq_license_key')).toBe('mq_license_key');
  });

  it('translates every name to v2.0 and the feature list to 512 float32 LE, base64', () => {
    const { record, format, defects } = normaliseRecord(legacy());
    expect(format).toBe('legacy');
    expect(defects).toEqual([]);
    expect(record).toMatchObject({
      api_version: LEGACY_API_VERSION,
      mq_license_key: 'BOX-1',
      post_action: '1001',
      user_type: 'stranger',
      media_device_info: {
        media_device_id: 'd-9',
        ep_id: 'cam-1',
        media_device_type: 'rtsp',
        media_device_ip: '10.0.0.2',
        media_device_name: 'Gate',
      },
      reg_image: 'AAAA',
      recognize_face_image: 'BBBB',
      firmware_note: 'kept',
    });
    for (const k of ['dev_sno', 'want_action', 'person_type', 'ep_info', 'reg_pic', 'recognize_face']) expect(record).not.toHaveProperty(k);
    const attr = record.recognize_face_attr as Record<string, unknown>;
    expect(attr).not.toHaveProperty('feature');
    const bytes = Buffer.from(attr.feature_base64_str as string, 'base64');
    expect(bytes.length).toBe(2048);
    expect(bytes.readFloatLE(4 * 100)).toBe(Math.fround(100 / 512));
  });

  it("identifies the camera by its uuid (ep_info.device_id, v2.0's media_device_id) and keeps ep_id as its address", () => {
    const withUuid = normaliseRecord(legacy()).record.media_device_info as Record<string, unknown>;
    expect(withUuid).not.toHaveProperty('device_id');
    expect(withUuid).toMatchObject({ media_device_id: 'd-9', ep_id: 'cam-1' });
    for (const device_id of [undefined, '', '  ', 42, null]) {
      const input = legacy();
      input.ep_info = { ...input.ep_info, device_id: device_id as string };
      if (device_id === undefined) delete (input.ep_info as Record<string, unknown>).device_id;
      const n = normaliseRecord(input);
      expect((n.record.media_device_info as Record<string, unknown>).media_device_id).toBe('cam-1');
      expect(n.wireName('media_device_info.media_device_id')).toBe('ep_info.ep_id');
    }
  });

  it('names fields as the box sent them', () => {
    const { wireName } = normaliseRecord(legacy());
    expect(wireName('mq_license_key')).toBe('dev_sno');
    expect(wireName('media_device_info')).toBe('ep_info');
    expect(wireName('media_device_info.media_device_id')).toBe('ep_info.device_id');
    expect(wireName('media_device_info.media_device_url')).toBe('ep_info.media_device_url');
    expect(wireName('spot_image')).toBe('spot_pic');
    expect(wireName('recognize_face_attr.feature_base64_str')).toBe('recognize_face_attr.feature');
    expect(wireName('timestamp')).toBe('timestamp');
    expect(wireName('score')).toBe('score');
  });

  it.each([
    [undefined, 'employee'],
    [null, 'employee'],
    [1, 'employee'],
    ['2', 'visitor'],
    [3, 'blacklist'],
    [5, 'vip'],
  ])('maps person_type %p to %s', (pt, userType) => {
    expect(normaliseRecord({ ...legacy(), person_type: pt }).record.user_type).toBe(userType);
  });

  it.each([0, 6, 2.5, 'vip', [1]])('records person_type %p as an unknown value', (pt) => {
    const { record, defects } = normaliseRecord({ ...legacy(), person_type: pt });
    expect(record).not.toHaveProperty('user_type');
    expect(defects).toEqual([expect.objectContaining({ field: 'person_type', code: 'unknown_value' })]);
  });

  it('lets a v2.0 name sent beside its legacy twin win', () => {
    const { record } = normaliseRecord({ ...legacy(), spot_image: 'CCCC' });
    expect(record.spot_image).toBe('CCCC');
    expect(record.spot_pic).toBe('');
  });
});

describe('featureFromList', () => {
  const run = (v: unknown) => {
    const defects: RecordDefect[] = [];
    return { bytes: featureFromList(v, defects), codes: defects.map((d) => d.code) };
  };
  it.each([
    [Array(511).fill(0), 'wrong_length'],
    [Array(512).fill(4e38), 'not_finite'],
    [[...Array(511).fill(0), 'x'], 'invalid_type'],
    ['not a list', 'invalid_type'],
  ])('records a defect for a bad feature (%#)', (v, code) => {
    expect(run(v)).toEqual({ bytes: null, codes: [code] });
  });
  it('accepts 512 finite numbers', () => {
    expect(run(Array(512).fill(-0.25)).bytes!.readFloatLE(2044)).toBe(-0.25);
  });
});
