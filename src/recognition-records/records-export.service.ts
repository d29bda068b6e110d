import { roundScore } from '../common/score';
import { Injectable } from '@nestjs/common';
import type { Writable } from 'node:stream';
import { RecordFilter, RecordKey, RecordsQueryService } from './records-query.service';
import type { RecordView } from './record-rows';

/** CSV columns: identification, time and score only; no images, features or free-form extras. */
const COLUMNS: [string, (r: RecordView) => string | number | boolean | null][] = [
  ['id', (r) => r.id],
  ['occurred_at', (r) => new Date(r.occurredAt).toISOString()],
  ['occurred_at_ms', (r) => r.occurredAt],
  ['box_id', (r) => r.boxId],
  ['media_device_id', (r) => r.mediaDeviceId],
  ['device_external_id', (r) => r.deviceExternalId],
  ['identity_id', (r) => r.identityId],
  ['identity_external_id', (r) => r.identityExternalId],
  ['identity_name', (r) => r.identityName],
  ['user_type', (r) => r.userType],
  ['post_action', (r) => r.postAction],
  ['score', (r) => roundScore(r.score)],
  ['score_raw', (r) => r.scoreRaw],
  ['has_defects', (r) => r.hasDefects],
  ['entered_at_ms', (r) => r.enteredAt],
  ['left_at_ms', (r) => r.leftAt],
  ['received_at_ms', (r) => r.receivedAt],
];

export const CSV_HEADER = COLUMNS.map(([name]) => name).join(',') + '\r\n';

/** UTF-8 byte order mark: lets spreadsheet programs that guess the code page read Chinese names right. */
export const UTF8_BOM = '\uFEFF';

/** A text a spreadsheet reads as a plain number ("-5", "+1.5e3"): it evaluates nothing, so it needs no guard. */
const PLAIN_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Would a spreadsheet evaluate this text as a formula (or DDE command)? */
function formulaLike(value: string): boolean {
  if (/^[=@\t\r]/.test(value)) return true;
  return /^[+-]/.test(value) && !PLAIN_NUMBER.test(value);
}

/**
 * RFC 4180 quoting. Text a spreadsheet would evaluate is prefixed with ' so it is shown, not run; anything else,
 * negative numbers included, is exported as it is.
 */
export function csvCell(value: string | number | boolean | null): string {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'string') return String(value);
  const safe = formulaLike(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function csvRow(r: RecordView): string {
  return COLUMNS.map(([, get]) => csvCell(get(r))).join(',') + '\r\n';
}

/**
 * Streams a filtered range as CSV, newest first, one keyset page at a time, waiting for the
 * consumer when the socket is full: memory stays bounded by one page whatever the range.
 */
@Injectable()
export class RecordsExportService {
  constructor(private readonly records: RecordsQueryService) {}

  async writeCsv(filter: RecordFilter, out: Writable, options: { bom?: boolean; batchSize?: number } = {}): Promise<number> {
    const batchSize = options.batchSize ?? 500;
    let count = 0;
    let after: RecordKey | undefined;
    if (!out.write(options.bom ? UTF8_BOM + CSV_HEADER : CSV_HEADER)) await drained(out);
    for (;;) {
      if (out.destroyed) return count;
      const page = await this.records.page(filter, batchSize, after);
      for (const r of page) {
        count++;
        if (!out.write(csvRow(r))) await drained(out);
        if (out.destroyed) return count;
      }
      if (page.length < batchSize) return count;
      const last = page[page.length - 1];
      after = { t: last.occurredAt, id: last.id };
    }
  }
}

/** Resolves on 'drain', or when the client goes away (then the loop sees destroyed and stops). */
function drained(out: Writable): Promise<void> {
  if (out.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      out.off('drain', done);
      out.off('close', done);
      resolve();
    };
    out.on('drain', done);
    out.on('close', done);
  });
}
