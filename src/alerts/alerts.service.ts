import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { UnitOfWork } from '../database/unit-of-work';
import type { RecordRef } from '../events/domain-events';
import { maskLicenseKey } from '../logging/redact';
import { RecordsStore } from '../recognition-records/records-store.service';

export type AlertKind = 'blacklist-seen' | 'vip-seen';

/** Raises watch-list alerts: one stored row per record and kind, plus a log line for operators. */
@Injectable()
export class AlertsService {
  private readonly logger = new Logger(AlertsService.name);

  constructor(
    private readonly uow: UnitOfWork,
    private readonly records: RecordsStore,
  ) {}

  /** Returns true when the alert is new, false for a replay or a record erased in the meantime. */
  async raise(kind: AlertKind, record: RecordRef, eventId: number | null): Promise<boolean> {
    const d = this.uow.dialect;
    // Copied from the record row itself, in one transaction, so an alert never outlives (or precedes) its record
    // (the record_id foreign key cascades an erasure that commits meanwhile).
    const inserted = await this.uow.run(async (m) => {
      const r = await this.records.alertFacts(m, record.recordId);
      if (!r) return false;
      const rows: { id: string }[] = await m.query(
        `INSERT INTO alerts (id, kind, event_id, record_id, identity_id, identity_external_id, identity_name, box_id,
           media_device_id, score, occurred_at, created_at)
         VALUES (${d.params(1, 12)})
         ON CONFLICT (record_id, kind) DO NOTHING
         RETURNING id`,
        [
          randomUUID(),
          kind,
          eventId,
          r.recordId,
          r.identityId,
          r.identityExternalId,
          r.identityName,
          r.boxId,
          r.mediaDeviceId,
          r.score,
          r.occurredAt,
          Date.now(),
        ],
      );
      return rows.length > 0;
    });
    if (!inserted) return false;
    const who = `${record.identityName ?? '(no name)'} [${record.identityExternalId}]`;
    const where = `media device ${record.deviceExternalId} of box ${maskLicenseKey(record.licenseKey)}`; // logs never carry a whole license key
    const line = `${kind}: ${who} seen on ${where} at ${new Date(record.occurredAt).toISOString()}`;
    if (kind === 'blacklist-seen') this.logger.warn(line);
    else this.logger.log(line);
    return true;
  }
}
