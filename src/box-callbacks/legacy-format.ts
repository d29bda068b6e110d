import { isPlainObject } from '../common/plain-object';
import { ImageRole, RecordDefect } from '../recognition-records/recognition-record.types';

/** api_version stored for records in the older (V5 and before) firmware format, which sends none. */
export const LEGACY_API_VERSION = 'legacy';

/** The feature is 512 float32 values in both formats. */
export const FEATURE_DIMENSIONS = 512;

/** Older firmware names (top level) → v2.0 names. */
const LEGACY_TOP: Record<string, string> = {
  want_action: 'post_action',
  dev_sno: 'mq_license_key',
  ep_info: 'media_device_info',
  reg_pic: 'reg_image',
  spot_pic: 'spot_image',
  ir_pic: 'ir_image',
  recognize_face: 'recognize_face_image',
  person_type: 'user_type',
};

/** The v2.0 image keys and the image role each holds: the one list the pipe and the mapper read. */
export const IMAGE_FIELDS: readonly (readonly [string, ImageRole])[] = [
  ['reg_image', 'registered'],
  ['spot_image', 'scene'],
  ['ir_image', 'infrared'],
  ['recognize_face_image', 'face'],
];

/** Image keys of both formats; older firmware's are read as images only in a legacy record without the v2.0 twin. */
export const IMAGE_KEYS = IMAGE_FIELDS.map(([key]) => key);
export const LEGACY_IMAGE_KEYS = Object.keys(LEGACY_TOP).filter((k) => IMAGE_KEYS.includes(LEGACY_TOP[k]));

/** ep_info children → media_device_info children. */
const LEGACY_DEVICE: Record<string, string> = {
  ep_id: 'media_device_id',
  ep_type: 'media_device_type',
  ep_ip: 'media_device_ip',
  ep_name: 'media_device_name',
};

/** ep_info.device_id when usable (a non-empty string): the camera's uuid. */
function cameraUuid(ep: Record<string, unknown>): string | null {
  const id = ep.device_id;
  return typeof id === 'string' && id.trim() !== '' ? id : null;
}

/** person_type 1..5, in the order the firmware documents them. */
const PERSON_TYPES = ['employee', 'visitor', 'blacklist', 'stranger', 'vip'];

const V2_TO_LEGACY_TOP: Record<string, string> = Object.fromEntries(Object.entries(LEGACY_TOP).map(([l, v]) => [v, l]));
const V2_TO_LEGACY_DEVICE: Record<string, string> = Object.fromEntries(Object.entries(LEGACY_DEVICE).map(([l, v]) => [v, l]));

export interface NormalisedRecord {
  /** The record under v2.0 names. */
  record: Record<string, unknown>;
  format: 'v2' | 'legacy';
  /** The wire name the box used for a v2.0 field path, so errors and defects name what it sent. */
  wireName: (v2Path: string) => string;
  /** Lesser defects found while translating (e.g. an unknown person_type). */
  defects: RecordDefect[];
}

const same = (path: string) => path;

/**
 * Older firmware is recognised by its names for the identifying fields (dev_sno, ep_info) or any of
 * its other names, in a record that has no v2.0 identifying field.
 */
export function isLegacyRecord(r: Record<string, unknown>): boolean {
  if ('mq_license_key' in r || 'media_device_info' in r) return false;
  for (const k in LEGACY_TOP) if (k in r) return true;
  return false;
}

/**
 * Translates an older-firmware record to the v2.0 names before validation, so it is validated,
 * mapped and stored exactly like its v2.0 equivalent. A v2.0 record is returned as it is.
 */
export function normaliseRecord(input: Record<string, unknown>): NormalisedRecord {
  if (!isLegacyRecord(input)) return { record: input, format: 'v2', wireName: same, defects: [] };

  const defects: RecordDefect[] = [];
  const record: Record<string, unknown> = {};
  for (const key of Object.keys(input)) {
    const v2 = LEGACY_TOP[key];
    // A v2.0 name sent beside its legacy twin wins; the twin is then kept as an unknown field.
    if (v2 && !(v2 in input)) record[v2] = input[key];
    else record[key] = input[key];
  }

  if (isPlainObject(record.media_device_info) && 'ep_info' in input) {
    const ep = record.media_device_info;
    const device: Record<string, unknown> = {};
    // The camera's uuid (what v2.0 firmware sends as media_device_id) identifies the device, so a camera keeps
    // one identity when its box is upgraded; ep_id, the camera's address on the box, is then kept in extra.
    const byUuid = cameraUuid(ep) !== null && !('media_device_id' in ep);
    for (const key of Object.keys(ep)) {
      if (byUuid && key === 'device_id') device.media_device_id = ep[key];
      else if (byUuid && key === 'ep_id') device.ep_id = ep[key];
      else {
        const v2 = LEGACY_DEVICE[key];
        if (v2 && !(v2 in ep)) device[v2] = ep[key];
        else device[key] = ep[key];
      }
    }
    record.media_device_info = device;
  }

  if (!('api_version' in input)) record.api_version = LEGACY_API_VERSION;

  if (typeof record.post_action === 'number' && 'want_action' in input) record.post_action = String(record.post_action);

  if (!('user_type' in input)) {
    const pt = input.person_type;
    if (pt === undefined || pt === null || pt === '') record.user_type = 'employee';
    else {
      const n = typeof pt === 'number' ? pt : typeof pt === 'string' && /^\d$/.test(pt.trim()) ? Number(pt) : NaN;
      if (Number.isInteger(n) && n >= 1 && n <= PERSON_TYPES.length) record.user_type = PERSON_TYPES[n - 1];
      else {
        delete record.user_type;
        const shown = String(typeof pt === 'object' ? JSON.stringify(pt) : pt).slice(0, 32);
        defects.push({
          field: 'person_type',
          code: 'unknown_value',
          message: `unknown person_type "${shown}"; stored without a user type`,
        });
      }
    }
  }

  if (isPlainObject(record.recognize_face_attr)) {
    const attr = { ...record.recognize_face_attr };
    if ('feature' in attr && !('feature_base64_str' in attr) && !('feature_binary' in attr)) {
      const feature = attr.feature;
      delete attr.feature;
      if (typeof feature === 'string') attr.feature_base64_str = feature;
      else {
        const bytes = featureFromList(feature, defects);
        if (bytes) attr.feature_base64_str = bytes.toString('base64');
      }
    }
    record.recognize_face_attr = attr;
  }

  return { record, format: 'legacy', wireName: legacyWireName(input), defects };
}

const FEATURE_FIELD = 'recognize_face_attr.feature';

/** A JSON number list → 512 little-endian float32, as the v2.0 firmware sends it in base64. */
export function featureFromList(value: unknown, defects: RecordDefect[]): Buffer | null {
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value)) {
    defects.push({ field: FEATURE_FIELD, code: 'invalid_type', message: `${FEATURE_FIELD} should be a list of numbers; ignored` });
    return null;
  }
  if (value.length !== FEATURE_DIMENSIONS) {
    defects.push({
      field: FEATURE_FIELD,
      code: 'wrong_length',
      message: `${FEATURE_FIELD} should hold ${FEATURE_DIMENSIONS} numbers, got ${value.length}; ignored`,
    });
    return null;
  }
  const bytes = Buffer.allocUnsafe(FEATURE_DIMENSIONS * 4);
  for (let i = 0; i < FEATURE_DIMENSIONS; i++) {
    const v: unknown = value[i];
    if (typeof v !== 'number') {
      defects.push({ field: FEATURE_FIELD, code: 'invalid_type', message: `${FEATURE_FIELD} should be a list of numbers; ignored` });
      return null;
    }
    // Values beyond float32 range become Infinity once stored as float32.
    if (!Number.isFinite(Math.fround(v))) {
      defects.push({
        field: FEATURE_FIELD,
        code: 'not_finite',
        message: `${FEATURE_FIELD} contains values outside float32 range; ignored`,
      });
      return null;
    }
    bytes.writeFloatLE(v, i * 4);
  }
  return bytes;
}

/** Maps a v2.0 field path back to the name this legacy record used for it. */
function legacyWireName(input: Record<string, unknown>): (v2Path: string) => string {
  const ep = isPlainObject(input.ep_info) ? input.ep_info : null;
  return (v2Path: string) => {
    const dot = v2Path.indexOf('.');
    const head = dot < 0 ? v2Path : v2Path.slice(0, dot);
    const rest = dot < 0 ? '' : v2Path.slice(dot + 1);
    if (head === 'recognize_face_attr' && rest === 'feature_base64_str') {
      const attr = input.recognize_face_attr;
      return isPlainObject(attr) && 'feature' in attr && !('feature_base64_str' in attr) ? FEATURE_FIELD : v2Path;
    }
    const legacyHead = V2_TO_LEGACY_TOP[head];
    // Names the box sent under v2.0 spelling (or did not send at all, when it has no legacy twin) stay.
    if (!legacyHead || head in input) return v2Path;
    if (!rest) return legacyHead;
    if (head === 'media_device_info') {
      if (rest === 'media_device_id' && ep && cameraUuid(ep) !== null && !('media_device_id' in ep)) return `${legacyHead}.device_id`;
      const child = V2_TO_LEGACY_DEVICE[rest];
      return `${legacyHead}.${child && !(ep && rest in ep) ? child : rest}`;
    }
    return `${legacyHead}.${rest}`;
  };
}
