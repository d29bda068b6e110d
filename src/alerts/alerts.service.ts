import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { UnitOfWork } from '../database/unit-of-work';
import type { RecordRef } from '../events/domain-events';
import { maskLicenseKey } from '../logging/redact';

export type AlertKind = 'blacklist-seen' | 'vip-seen';

/** Raises watch-list alerts: one stored row per record and kind, plus a log line for operators. */
@Injectable()
export class AlertsService {
  private readonly logger = new Logger(AlertsService.name);

  constructor(private readonly uow: UnitOfWork) {}

  /** Returns true when the alert is new, false for a replay or a record erased in the meantime. */
  async raise(kind: AlertKind, record: RecordRef, eventId: number | null): Promise<boolean> {
    const d = this.uow.dialect;
    // Copied from the record row itself, so an alert never outlives (or precedes) its record.
    const inserted: { id: string }[] = await this.uow.run((m) =>
      m.query(
        `INSERT INTO alerts (id, kind, event_id, record_id, identity_id, identity_external_id, identity_name, box_id,
           media_device_id, score, occurred_at, created_at)
         SELECT ${d.params(1, 3)}, r.id, r.identity_id, r.identity_external_id, r.identity_name, r.box_id,
           r.media_device_id, r.score, r.occurred_at, ${d.p(4)}
         FROM recognition_records r WHERE r.id = ${d.p(5)}
         ON CONFLICT (record_id, kind) DO NOTHING
         RETURNING id`,
        [randomUUID(), kind, eventId, Date.now(), record.recordId],
      ),
    );
    if (inserted.length === 0) return false;
    const who = `${record.identityName ?? '(no name)'} [${record.identityExternalId}]`;
    const where = `media device ${record.deviceExternalId} of box ${maskLicenseKey(record.licenseKey)}`; // logs never carry a whole license key
    const line = `${kind}: ${who} seen on ${where} at ${new Date(record.occurredAt).toISOString()}`;
    if (kind === 'blacklist-seen') this.logger.warn(line);
    else this.logger.log(line);
    return true;
  }
}
