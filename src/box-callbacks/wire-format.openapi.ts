import type { SchemaObject } from '@nestjs/swagger';

/**
 * The box push body as OpenAPI schemas, so the document itself says what a box may send. Only the identifying
 * fields are strict (wrong or missing: 400 naming the field); every other field that is wrong is stored with a
 * `defects` entry on the record, because a 4xx would block the box's queue for good (see DESIGN.md §2).
 */
const LENIENT = 'Lenient: a value of another type or an unknown value is stored with a defect, never refused.';
const IMAGE =
  'Base64 JPEG (a data:image/jpeg;base64, prefix is allowed); "" or absent means no image. ' +
  'Lenient: an undecodable image is not stored and listed as a defect.';
const FEATURE_B64 =
  '512 little-endian float32 values, base64 (2,732 characters), L2-normalised. Lenient: a wrong length, bad base64 or NaN is a defect.';
const nullableText = (description: string): SchemaObject => ({ type: 'string', nullable: true, description });

const faceAttributes = (legacy: boolean): SchemaObject => ({
  type: 'object',
  description: `Face attributes and the feature vector. ${LENIENT}`,
  additionalProperties: true,
  properties: {
    point: { type: 'array', items: { type: 'number' }, minItems: 10, maxItems: 10, description: '5 landmarks as x,y pairs.' },
    box: { type: 'array', items: { type: 'number' }, minItems: 4, maxItems: 4, description: 'Face box [x1, y1, x2, y2].' },
    mask: nullableText('As the box reports it.'),
    gender: nullableText('As the box reports it.'),
    hat: nullableText('As the box reports it.'),
    age: nullableText('As the box reports it (a number is stored as text).'),
    glasses: nullableText('As the box reports it.'),
    expression: nullableText('As the box reports it.'),
    ...(legacy
      ? {
          feature: {
            type: 'array',
            items: { type: 'number' },
            minItems: 512,
            maxItems: 512,
            description: 'The feature as 512 numbers (base64 string also accepted).',
          },
        }
      : {
          feature_base64_str: { type: 'string', format: 'byte', description: FEATURE_B64 },
          feature_binary: {
            type: 'string',
            format: 'byte',
            description: `Same as feature_base64_str (some firmware uses this name). ${FEATURE_B64}`,
          },
        }),
  },
});

const EPOCH_MS: SchemaObject = {
  oneOf: [
    { type: 'integer', format: 'int64', minimum: 0 },
    { type: 'string', pattern: '^\\d{1,16}$' },
  ],
};

export const BOX_RECORD_V2: SchemaObject = {
  title: 'AsyncRecognitionRecord (v2.0)',
  type: 'object',
  description:
    'One recognition event under v2.0 names. Strict (400 naming the field): mq_license_key, timestamp, ' +
    'media_device_info.media_device_id. Everything else is lenient. Unknown fields are kept (images removed).',
  required: ['mq_license_key', 'timestamp', 'media_device_info'],
  additionalProperties: true,
  properties: {
    mq_license_key: { type: 'string', minLength: 1, maxLength: 128, description: "Strict. The box's license key: identifies the box." },
    timestamp: { ...EPOCH_MS, description: 'Strict. Event time, epoch milliseconds (13 digits; a string of digits is accepted).' },
    media_device_info: {
      type: 'object',
      description: 'The camera or terminal that saw the event.',
      required: ['media_device_id'],
      additionalProperties: true,
      properties: {
        media_device_id: { type: 'string', minLength: 1, maxLength: 128, description: "Strict. The box's id of the device." },
        media_device_type: { type: 'string', enum: ['photo', 'rtsp', 'file'], description: LENIENT },
        media_device_ip: { type: 'string', maxLength: 64, description: LENIENT },
        media_device_name: { type: 'string', maxLength: 200, description: LENIENT },
        media_device_url: {
          type: 'string',
          maxLength: 1000,
          description: `Stream URL; user:password in it is never shown by the API. ${LENIENT}`,
        },
      },
    },
    api_version: { type: 'string', example: '2.0', description: '"1.0" or "2.0".' },
    identity_id: {
      type: 'string',
      maxLength: 128,
      description: `The box's id of the recognised person (a number is stored as text). ${LENIENT}`,
    },
    identity_name: { type: 'string', maxLength: 200, description: LENIENT },
    score: {
      oneOf: [{ type: 'number', minimum: 0, maximum: 100 }, { type: 'string' }],
      description: `0-100 (current firmware) or 0-1 (older); kept raw and normalised to 0-1. ${LENIENT}`,
    },
    post_action: {
      type: 'string',
      enum: ['0', '1001', '1002'],
      description: `"0" nothing, "1001" a stranger was registered, "1002" the registered face was updated. ${LENIENT}`,
    },
    user_type: { type: 'string', enum: ['employee', 'visitor', 'blacklist', 'stranger', 'vip', 'car'], description: LENIENT },
    in_timestamp: { ...EPOCH_MS, description: `Person entered the view, epoch ms. ${LENIENT}` },
    out_timestamp: { ...EPOCH_MS, description: `Person left the view, epoch ms. ${LENIENT}` },
    reg_image: { type: 'string', format: 'byte', description: `Registered library photo. ${IMAGE}` },
    spot_image: { type: 'string', format: 'byte', description: `Full scene. ${IMAGE}` },
    ir_image: { type: 'string', format: 'byte', description: `Infrared image. ${IMAGE}` },
    recognize_face_image: { type: 'string', format: 'byte', description: `Face crop. ${IMAGE}` },
    recognize_face_attr: faceAttributes(false),
  },
};

export const BOX_RECORD_LEGACY: SchemaObject = {
  title: 'AsyncRecognitionRecord (legacy V5 names)',
  type: 'object',
  description:
    'Older firmware (V5 and before): the same event under other names, recognised by dev_sno/ep_info. Strict: ' +
    'dev_sno, timestamp, ep_info.ep_id. Other fields as in the v2.0 format: want_action=post_action, ' +
    'reg_pic/spot_pic/ir_pic/recognize_face=the four images, person_type 1..5 (employee, visitor, blacklist, ' +
    'stranger, vip; missing = employee; unknown = defect)=user_type, recognize_face_attr.feature a number list.',
  required: ['dev_sno', 'timestamp', 'ep_info'],
  additionalProperties: true,
  properties: {
    dev_sno: { type: 'string', minLength: 1, maxLength: 128, description: 'Strict. = mq_license_key.' },
    timestamp: { ...EPOCH_MS, description: 'Strict. Event time, epoch milliseconds.' },
    ep_info: {
      type: 'object',
      required: ['ep_id'],
      additionalProperties: true,
      properties: {
        ep_id: { type: 'string', minLength: 1, maxLength: 128, description: 'Strict. = media_device_id.' },
        ep_type: { type: 'string', description: `= media_device_type. ${LENIENT}` },
        ep_ip: { type: 'string', description: `= media_device_ip. ${LENIENT}` },
        ep_name: { type: 'string', description: `= media_device_name. ${LENIENT}` },
      },
    },
    want_action: { type: 'string', description: `= post_action. ${LENIENT}` },
    person_type: {
      oneOf: [{ type: 'integer', minimum: 1, maximum: 5 }, { type: 'string' }],
      description: `= user_type as 1..5. ${LENIENT}`,
    },
    reg_pic: { type: 'string', format: 'byte', description: `= reg_image. ${IMAGE}` },
    spot_pic: { type: 'string', format: 'byte', description: `= spot_image. ${IMAGE}` },
    ir_pic: { type: 'string', format: 'byte', description: `= ir_image. ${IMAGE}` },
    recognize_face: { type: 'string', format: 'byte', description: `= recognize_face_image. ${IMAGE}` },
    recognize_face_attr: faceAttributes(true),
  },
};

/** A minimal v2.0 push that "Try it out" can send as it is (no images, so it stores a record without biometrics). */
export const BOX_PUSH_EXAMPLE = {
  api_version: '2.0',
  mq_license_key: 'DOCS-EXAMPLE-BOX',
  timestamp: 1793491200000,
  media_device_info: { media_device_id: 'cam-1', media_device_type: 'rtsp', media_device_name: 'front door' },
  identity_id: '01200002',
  identity_name: 'Example Person',
  score: 94.8,
  post_action: '0',
  user_type: 'employee',
};

/** Added to the document's components by setupOpenApi. */
export const BOX_WIRE_SCHEMAS: Record<string, SchemaObject> = { BoxRecordV2: BOX_RECORD_V2, BoxRecordLegacy: BOX_RECORD_LEGACY };

const record = { oneOf: [{ $ref: '#/components/schemas/BoxRecordV2' }, { $ref: '#/components/schemas/BoxRecordLegacy' }] };

export const BOX_PUSH_BODY_SCHEMA: SchemaObject = {
  description:
    'One record, or a JSON array of up to 100. A push is stored only when every record in it can be; otherwise 400 names the first bad field as `[i].field`.',
  oneOf: [...record.oneOf, { type: 'array', minItems: 1, maxItems: 100, items: record }],
  example: BOX_PUSH_EXAMPLE,
};

/** What is refused and what is stored with a defect, for the operation description. */
export const BOX_PUSH_RULES =
  'The box treats 200 as delivered and anything else as failure, retrying the same event forever, in order. ' +
  'So 200 only once the record, its images and its events are committed; a resent event (same box, media device, ' +
  'identity and timestamp) is answered 200 and changes nothing. Any Content-Type is read as JSON.\n\n' +
  '**Strict** (400 with `field` naming it, as the box spelled it): not JSON; nesting deeper than 32; a record that is ' +
  'not an object; a missing, empty or non-string mq_license_key (dev_sno); a timestamp that is not epoch ms; a ' +
  'missing media_device_info (ep_info) or media_device_id (ep_id); an empty array or more than 100 records.\n\n' +
  '**Stored with a defect** (200; the record lists `{field, code, message}` in `defects`, and `hasDefects` filters ' +
  'on it): undecodable or non-JPEG/PNG images, a feature of the wrong length, bad base64 or NaN, an unknown ' +
  'user_type/post_action/media_device_type/person_type, a score that is not a number or outside 0-100, bad ' +
  'in/out timestamps, landmark or box lists of the wrong length, over-long text (truncated), wrong types in ' +
  'lenient fields.\n\nBoth the v2.0 names and the legacy V5 names are accepted (schemas below).';
