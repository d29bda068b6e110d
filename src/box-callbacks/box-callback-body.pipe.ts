import { isPlainObject } from '../common/plain-object';
import { Injectable, PipeTransform } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { PayloadFieldError } from '../common/payload-error';
import { RecordDefect } from '../recognition-records/recognition-record.types';
import { hasUnstorableText } from '../common/storable-text';
import { AsyncRecognitionRecordDto, parseEpochMillis } from './dto/async-recognition-record.dto';
import { checkJsonShape } from './hostile-input';
import { LiftedText } from '../common/lifted-text';
import { IMAGE_KEYS, LEGACY_IMAGE_KEYS, normaliseRecord } from './legacy-format';

export const MAX_RECORDS_PER_PUSH = 100;

/** The keys whose long values the box routes' JSON parser leaves as bytes (LiftedText) in each record. */
export const BOX_LIFTED_KEYS: ReadonlySet<string> = new Set([...IMAGE_KEYS, ...LEGACY_IMAGE_KEYS]);

/**
 * Only the mapper's image fields decode a LiftedText: an older-firmware image key left as it is (sent beside its v2.0
 * twin, or in a v2.0 record) is an unknown field, kept as the string it is.
 */
function stringsForUnreadImages(record: Record<string, unknown>): void {
  for (const key of LEGACY_IMAGE_KEYS) {
    const v = record[key];
    if (v instanceof LiftedText) record[key] = v.text();
  }
}

/** One validated record of a push, in v2.0 names, with what the translation from its wire form found. */
export interface ReceivedRecord {
  dto: AsyncRecognitionRecordDto;
  format: 'v2' | 'legacy';
  /** Where it was in the push: "" for a single record, "[2]" inside an array. */
  where: string;
  /** The name the box used for a v2.0 field path ("ep_info.ep_id" for legacy firmware). */
  wireName: (v2Path: string) => string;
  /** Lesser defects found before mapping (legacy translation). */
  defects: RecordDefect[];
}

function firstError(errors: ValidationError[], prefix: string): { field: string; message: string } | null {
  for (const e of errors) {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    if (e.constraints) {
      const message = Object.values(e.constraints)[0];
      // A missing parent object is reported against the identifying child field.
      return { field: e.property === 'media_device_info' && e.value == null ? `${field}.media_device_id` : field, message };
    }
    const nested = firstError(e.children ?? [], field);
    if (nested) return nested;
  }
  return null;
}

/** Messages name v2.0 fields; a legacy record is told about the names it sent. */
function renameInMessage(message: string, v2Field: string, wireField: string): string {
  if (v2Field === wireField) return message;
  const leaf = (f: string) => f.slice(f.lastIndexOf('.') + 1);
  return message.split(v2Field).join(wireField).split(leaf(v2Field)).join(leaf(wireField));
}

/**
 * Only the fields the DTO validates, for class-transformer: its cost grows with the square of an object's keys, so
 * it never sees the rest of a record (unknown fields, images), which the mapper reads as it came.
 */
function identifyingFields(record: Record<string, unknown>): Record<string, unknown> {
  const device = record.media_device_info;
  return {
    mq_license_key: record.mq_license_key,
    timestamp: record.timestamp,
    // Anything but an object fails validation alike; an array's items need not be copied for that.
    media_device_info: isPlainObject(device) ? { media_device_id: device.media_device_id } : Array.isArray(device) ? [] : device,
  };
}

/**
 * True only for identifying fields the DTO certainly accepts: the common case, checked without class-transformer and
 * class-validator (their metadata lookups cost about 3 % of the hub's CPU per small push). Anything else, including
 * what the DTO may still accept (a key over 128 UTF-16 units whose surrogate pairs count once), goes through the DTO,
 * which decides and words every refusal. A spec checks that this never accepts what the DTO refuses.
 */
export function surelyValidIdentifyingFields(record: Record<string, unknown>): boolean {
  const key = record.mq_license_key;
  if (typeof key !== 'string' || key.length === 0 || key.length > 128 || hasUnstorableText(key)) return false;
  if (parseEpochMillis(record.timestamp) === null) return false;
  const device = record.media_device_info;
  if (!isPlainObject(device)) return false;
  const id = device.media_device_id;
  return typeof id === 'string' && id.length > 0 && id.length <= 128;
}

/** The DTO's verdict on a record's identifying fields: its first error, or null. */
export function dtoError(record: Record<string, unknown>): { field: string; message: string } | null {
  const checked = plainToInstance(AsyncRecognitionRecordDto, identifyingFields(record));
  return firstError(validateSync(checked, { forbidUnknownValues: false, stopAtFirstError: true }), '');
}

/**
 * Accepts one record or a JSON array of up to 100, translates older-firmware names to v2.0,
 * validates each against the wire DTO and answers 400 naming the first bad field as the box sent it
 * ("[2].timestamp" inside an array, "dev_sno" from older firmware). Nothing is stored unless every
 * record of the push is acceptable.
 */
@Injectable()
export class BoxCallbackBodyPipe implements PipeTransform<unknown, ReceivedRecord[]> {
  transform(body: unknown): ReceivedRecord[] {
    // The global JSON guard checks every parsed body; this keeps the pipe safe wherever it is used.
    const shape = checkJsonShape(body);
    if (shape) throw new PayloadFieldError(shape.field, shape.message);
    const isArray = Array.isArray(body);
    const items: unknown[] = isArray ? body : [body];
    if (isArray && items.length === 0) throw new PayloadFieldError('body', 'body must not be an empty array');
    if (items.length > MAX_RECORDS_PER_PUSH) {
      throw new PayloadFieldError('body', `at most ${MAX_RECORDS_PER_PUSH} records per request`);
    }
    return items.map((item, i) => {
      const where = isArray ? `[${i}]` : '';
      if (item === null || typeof item !== 'object' || Array.isArray(item)) {
        throw new PayloadFieldError(where || 'body', `${where || 'body'} must be a JSON object (a recognition record)`);
      }
      const normalised = normaliseRecord(item as Record<string, unknown>);
      stringsForUnreadImages(normalised.record);
      const error = surelyValidIdentifyingFields(normalised.record) ? null : dtoError(normalised.record);
      if (error) {
        const wire = normalised.wireName(error.field);
        throw new PayloadFieldError(`${where}${where ? '.' : ''}${wire}`, renameInMessage(error.message, error.field, wire));
      }
      // Validated: the record's identifying fields are what the DTO says.
      const dto = normalised.record as AsyncRecognitionRecordDto;
      return { dto, format: normalised.format, where, wireName: normalised.wireName, defects: normalised.defects };
    });
  }
}
