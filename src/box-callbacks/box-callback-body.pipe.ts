import { Injectable, PipeTransform } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { PayloadFieldError } from '../common/payload-error';
import { AsyncRecognitionRecordDto } from './dto/async-recognition-record.dto';

export const MAX_RECORDS_PER_PUSH = 100;

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

/**
 * Accepts one record or a JSON array of up to 100, validates each against the wire DTO and
 * answers 400 naming the first bad field ("[2].timestamp" inside an array). Nothing is stored
 * unless every record of the push is acceptable.
 */
@Injectable()
export class BoxCallbackBodyPipe implements PipeTransform<unknown, AsyncRecognitionRecordDto[]> {
  transform(body: unknown): AsyncRecognitionRecordDto[] {
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
      const dto = plainToInstance(AsyncRecognitionRecordDto, item);
      const error = firstError(validateSync(dto, { forbidUnknownValues: false, stopAtFirstError: true }), '');
      if (error) throw new PayloadFieldError(`${where}${where ? '.' : ''}${error.field}`, error.message);
      return dto;
    });
  }
}
