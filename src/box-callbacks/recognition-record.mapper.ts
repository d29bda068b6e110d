import { isPlainObject } from '../common/plain-object';
import { LiftedText } from '../common/lifted-text';
import { roundScore } from '../common/score';
import { decodeBase64Strict, decodeImage } from '../images/images.module';
import { DecodedImage, FaceAttributes, ImageRole, RecordDefect } from '../recognition-records/recognition-record.types';
import { IngestRecognitionCommand } from '../ingestion/ingestion.types';
import type { ReceivedRecord } from './box-callback-body.pipe';
import { FEATURE_DIMENSIONS, IMAGE_FIELDS } from './legacy-format';
import { parseEpochMillis } from './dto/async-recognition-record.dto';
import { NUL_SYMBOL, storableText, UNSTORABLE_DEFECT as UNSTORABLE, UNSTORABLE_WHAT } from '../common/storable-text';
import { UnknownFields } from './unknown-fields';

export { FEATURE_DIMENSIONS };
export const KNOWN_USER_TYPES = new Set(['employee', 'visitor', 'blacklist', 'stranger', 'vip', 'car']);
export const KNOWN_POST_ACTIONS = new Set(['0', '1001', '1002']);
export const KNOWN_MEDIA_DEVICE_TYPES = new Set(['photo', 'rtsp', 'file']);

const TOP_LEVEL_FIELDS = new Set([
  'api_version',
  'identity_id',
  'identity_name',
  'timestamp',
  'score',
  'post_action',
  'user_type',
  'in_timestamp',
  'out_timestamp',
  'media_device_info',
  'mq_license_key',
  'reg_image',
  'spot_image',
  'ir_image',
  'recognize_face_image',
  'recognize_face_attr',
]);
const DEVICE_FIELDS = new Set(['media_device_id', 'media_device_type', 'media_device_ip', 'media_device_name', 'media_device_url']);
const ATTR_FIELDS = new Set([
  'point',
  'box',
  'mask',
  'gender',
  'hat',
  'age',
  'glasses',
  'expression',
  'feature_base64_str',
  'feature_binary',
]);
const ATTRIBUTE_NAMES = ['mask', 'gender', 'hat', 'age', 'glasses', 'expression'] as const;

/** Box times before this are a wrong clock (the platform did not exist): 2000-01-01T00:00:00Z. */
export const EARLIEST_EVENT_TIME = Date.UTC(2000, 0, 1);
/** Box times more than this ahead of the receive time are a wrong clock too. */
export const MAX_EVENT_TIME_AHEAD_MS = 24 * 60 * 60 * 1000;

export interface MapperOptions {
  maxImageBytes: number;
  /** Receive time (epoch ms): the record's time when the box's timestamp is outside the window. */
  receivedAt: number;
}

/**
 * Collects lesser defects while mapping; the record is stored with them. Fields are named as the box
 * sent them (older firmware uses other names), in messages too.
 */
export class Defects {
  readonly list: RecordDefect[];
  constructor(
    private readonly wireName: (v2Path: string) => string = (f) => f,
    initial: RecordDefect[] = [],
  ) {
    this.list = [...initial];
  }
  add(field: string, code: string, message: string): void {
    const wire = this.wireName(field);
    this.list.push({ field: wire, code, message: wire === field ? message : message.split(field).join(wire) });
  }
  /** Messages quote values the box sent; they are stored as text too. */
  storable(): RecordDefect[] {
    return this.list.map((d) => ({ field: storableText(d.field), code: d.code, message: storableText(d.message) }));
  }
}

/** A non-identifying text, with NUL removed and unpaired surrogates replaced (a defect says so). */
function cleanText(text: string, field: string, defects: Defects): string {
  const clean = storableText(text);
  if (clean !== text) defects.add(field, UNSTORABLE, `${field} contained ${UNSTORABLE_WHAT}: NUL removed, surrogates replaced by U+FFFD`);
  return clean;
}

/**
 * An identifying text (part of the event's natural key): NUL becomes the visible U+2400 instead of vanishing,
 * so "cam\u00001" stays apart from "cam1", and the value as sent is quoted in the defect.
 */
function cleanIdentifier(text: string, field: string, defects: Defects): string {
  const clean = storableText(text, NUL_SYMBOL);
  if (clean !== text) {
    defects.add(
      field,
      UNSTORABLE,
      `${field} contained ${UNSTORABLE_WHAT}: stored as ${JSON.stringify(clean)}, sent as ${JSON.stringify(text)}`,
    );
  }
  return clean;
}

function optionalText(value: unknown, field: string, maxLength: number, defects: Defects): string | null {
  if (value === undefined || value === null || value === '') return null;
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'number' || typeof value === 'boolean') {
    text = String(value);
    defects.add(field, 'coerced_to_string', `${field} should be a string; stored as text`);
  } else {
    defects.add(field, 'invalid_type', `${field} should be a string; ignored`);
    return null;
  }
  if (text.length > maxLength) {
    defects.add(field, 'truncated', `${field} longer than ${maxLength} characters; truncated`);
    text = text.slice(0, maxLength);
  }
  return cleanText(text, field, defects);
}

function isoOrRaw(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : `${ms} (${d.toISOString()})`;
}

function outsideWindow(ms: number, receivedAt: number): boolean {
  return ms < EARLIEST_EVENT_TIME || ms > receivedAt + MAX_EVENT_TIME_AHEAD_MS;
}

const WINDOW_TEXT = `${new Date(EARLIEST_EVENT_TIME).toISOString()} .. receive time + ${MAX_EVENT_TIME_AHEAD_MS / 3_600_000} h`;

/**
 * The record's time. A box timestamp outside the window (wrong clock) would put the record where queries and
 * retention never look, so the record takes the receive time; the box's value stays in box_timestamp (the
 * dedup key) and in the defect.
 */
function eventTime(boxTimestamp: number, receivedAt: number, defects: Defects): number {
  if (!outsideWindow(boxTimestamp, receivedAt)) return boxTimestamp;
  defects.add(
    'timestamp',
    'timestamp_out_of_range',
    `timestamp ${isoOrRaw(boxTimestamp)} is outside ${WINDOW_TEXT}; the record's time is its receive time`,
  );
  return receivedAt;
}

function optionalEpoch(value: unknown, field: string, receivedAt: number, defects: Defects): number | null {
  if (value === undefined || value === null || value === '') return null;
  const ms = parseEpochMillis(value);
  if (ms === null) defects.add(field, 'invalid_timestamp', `${field} is not epoch milliseconds; ignored`);
  else if (outsideWindow(ms, receivedAt)) {
    defects.add(field, 'timestamp_out_of_range', `${field} ${isoOrRaw(ms)} is outside ${WINDOW_TEXT}; kept as sent`);
  }
  return ms;
}

function numberList(value: unknown, field: string, length: number, defects: Defects): number[] | null {
  if (value === undefined || value === null) return null;
  if (Array.isArray(value) && value.length === length && value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    return value as number[];
  }
  defects.add(field, 'invalid_shape', `${field} should be ${length} finite numbers; ignored`);
  return null;
}

export function normaliseScore(value: unknown, defects: Defects): { raw: number | null; normalised: number | null } {
  if (value === undefined || value === null || value === '') return { raw: null, normalised: null };
  const raw = typeof value === 'number' ? value : typeof value === 'string' ? Number(value.trim()) : NaN;
  if (!Number.isFinite(raw)) {
    defects.add('score', 'invalid_score', 'score is not a number; ignored');
    return { raw: null, normalised: null };
  }
  // Current firmware reports 0-100, older examples 0-1.
  if (raw >= 0 && raw <= 1) return { raw, normalised: roundScore(raw) };
  if (raw > 1 && raw <= 100) return { raw, normalised: roundScore(raw / 100) };
  defects.add('score', 'score_out_of_range', 'score is outside 0-100; kept raw, not normalised');
  return { raw, normalised: null };
}

/** 512 little-endian float32 values, base64. */
export function decodeFeature(value: unknown, field: string, defects: Defects): Buffer | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string') {
    defects.add(field, 'invalid_type', `${field} should be a base64 string; ignored`);
    return null;
  }
  const bytes = decodeBase64Strict(value);
  if (!bytes) {
    defects.add(field, 'invalid_base64', `${field} is not valid base64; ignored`);
    return null;
  }
  if (bytes.length !== FEATURE_DIMENSIONS * 4) {
    defects.add(
      field,
      'wrong_length',
      `${field} should hold ${FEATURE_DIMENSIONS} float32 values (${FEATURE_DIMENSIONS * 4} bytes), got ${bytes.length} bytes; ignored`,
    );
    return null;
  }
  for (let i = 0; i < bytes.length; i += 4) {
    if (!Number.isFinite(bytes.readFloatLE(i))) {
      defects.add(field, 'not_finite', `${field} contains NaN or Infinity; ignored`);
      return null;
    }
  }
  return bytes;
}

/**
 * Takes the images' base64 text off a mapped record: the command holds the decoded bytes, and the text (a third
 * larger) would otherwise stay in memory while the push waits for its images and its commit (npm run bench:memory).
 */
export function releaseImageText(received: ReceivedRecord): void {
  const raw = received.dto as unknown as Record<string, unknown>;
  for (const [field] of IMAGE_FIELDS) delete raw[field];
}

/** Maps a validated wire record into the domain command, listing every lesser defect. */
export function toIngestCommand(received: ReceivedRecord, sourceAddress: string | null, opts: MapperOptions): IngestRecognitionCommand {
  const { dto, wireName } = received;
  const defects = new Defects(wireName, received.defects);
  const raw = dto as unknown as Record<string, unknown>;
  const device = dto.media_device_info as unknown as Record<string, unknown>;
  const attr = isPlainObject(dto.recognize_face_attr) ? dto.recognize_face_attr : null;
  if (dto.recognize_face_attr !== undefined && dto.recognize_face_attr !== null && !attr) {
    defects.add('recognize_face_attr', 'invalid_type', 'recognize_face_attr should be an object; ignored');
  }

  const mediaDeviceType = optionalText(device.media_device_type, 'media_device_info.media_device_type', 32, defects);
  if (mediaDeviceType && !KNOWN_MEDIA_DEVICE_TYPES.has(mediaDeviceType)) {
    defects.add('media_device_info.media_device_type', 'unknown_value', `unknown media_device_type "${mediaDeviceType}"`);
  }
  const userType = optionalText(dto.user_type, 'user_type', 32, defects);
  if (userType && !KNOWN_USER_TYPES.has(userType)) defects.add('user_type', 'unknown_value', `unknown user_type "${userType}"`);
  const postAction = optionalText(dto.post_action, 'post_action', 16, defects);
  if (postAction && !KNOWN_POST_ACTIONS.has(postAction)) {
    defects.add('post_action', 'unknown_value', `unknown post_action "${postAction}"`);
  }
  const identityText = typeof dto.identity_id === 'string' ? dto.identity_id : null;
  // Identifying: cleaned before the usual handling, which would remove NUL from it.
  const identityId =
    typeof dto.identity_id === 'number'
      ? String(dto.identity_id)
      : optionalText(
          identityText !== null ? cleanIdentifier(identityText, 'identity_id', defects) : dto.identity_id,
          'identity_id',
          128,
          defects,
        );
  const score = normaliseScore(dto.score, defects);

  const images: Partial<Record<ImageRole, DecodedImage>> = {};
  for (const [field, role] of IMAGE_FIELDS) {
    const value = raw[field];
    if (value === undefined || value === null || value === '') continue;
    // A LiftedText is a JSON string the parser left as the body's bytes.
    if (typeof value !== 'string' && !(value instanceof LiftedText)) {
      defects.add(field, 'invalid_type', `${field} should be a base64 string; ignored`);
      continue;
    }
    const decoded = decodeImage(value, opts.maxImageBytes);
    if (typeof decoded === 'string') defects.add(field, decoded, `${field} is unusable (${decoded.replace(/_/g, ' ')}); not stored`);
    else images[role] = decoded;
  }

  let attributes: FaceAttributes | null = null;
  let feature: Buffer | null = null;
  if (attr) {
    attributes = { mask: null, gender: null, hat: null, age: null, glasses: null, expression: null };
    for (const name of ATTRIBUTE_NAMES) {
      const v = attr[name];
      // Attributes are descriptive ("male", "25"); numbers are taken as their text without complaint.
      attributes[name] = typeof v === 'number' ? String(v) : optionalText(v, `recognize_face_attr.${name}`, 64, defects);
    }
    const featureField = attr.feature_base64_str !== undefined ? 'feature_base64_str' : 'feature_binary';
    feature = decodeFeature(attr[featureField], `recognize_face_attr.${featureField}`, defects);
  }

  const unknown = new UnknownFields();
  let extra: Record<string, unknown> | null = unknown.keep(raw, TOP_LEVEL_FIELDS, '');
  const deviceExtra = unknown.keep(device, DEVICE_FIELDS, 'media_device_info');
  const attrExtra = attr ? unknown.keep(attr, ATTR_FIELDS, 'recognize_face_attr') : null;
  if (deviceExtra) extra = { ...extra, media_device_info: deviceExtra };
  if (attrExtra) extra = { ...extra, recognize_face_attr: attrExtra };
  unknown.reportTo(defects);

  const boxTimestamp = parseEpochMillis(dto.timestamp)!;
  const occurredAt = eventTime(boxTimestamp, opts.receivedAt, defects);
  const deviceId = cleanIdentifier(dto.media_device_info.media_device_id, 'media_device_info.media_device_id', defects);
  const enteredAt = optionalEpoch(dto.in_timestamp, 'in_timestamp', opts.receivedAt, defects);
  const leftAt = optionalEpoch(dto.out_timestamp, 'out_timestamp', opts.receivedAt, defects);

  return {
    licenseKey: dto.mq_license_key,
    apiVersion: optionalText(dto.api_version, 'api_version', 16, defects),
    sourceAddress,
    mediaDevice: {
      deviceId,
      type: mediaDeviceType,
      ip: optionalText(device.media_device_ip, 'media_device_info.media_device_ip', 64, defects),
      name: optionalText(device.media_device_name, 'media_device_info.media_device_name', 200, defects),
      url: optionalText(device.media_device_url, 'media_device_info.media_device_url', 1000, defects),
    },
    identityExternalId: identityId ?? '',
    identityName: optionalText(dto.identity_name, 'identity_name', 200, defects),
    userType,
    occurredAt,
    boxTimestamp,
    enteredAt,
    leftAt,
    scoreRaw: score.raw,
    score: score.normalised,
    postAction,
    attributes,
    landmarks: attr ? numberList(attr.point, 'recognize_face_attr.point', 10, defects) : null,
    faceBox: attr ? numberList(attr.box, 'recognize_face_attr.box', 4, defects) : null,
    feature,
    images,
    defects: defects.storable(),
    extra,
  };
}
