import { Inject, Injectable, Optional } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { AppConfig } from '../config/app-config.service';
import { rowJson } from '../database/row-values';
import { UnitOfWork } from '../database/unit-of-work';
import { withoutImageReferences } from '../events/domain-events';
import { identityNotFound } from '../identities/identity-errors';
import { PERSON_LINKS, type PersonLinks } from '../identities/person-links.types';
import { ImageReleaseService } from './image-release.service';
import { StoragePurgeService } from './storage-purge.service';

const IMAGE_COLUMNS = ['reg_image_sha256', 'spot_image_sha256', 'ir_image_sha256', 'face_image_sha256'] as const;
const FACE_EVENTS = ['identity.stranger-registered', 'identity.face-library-updated'];
/** Tables erasure updates or deletes from: their old row versions hold what was erased. */
const TOUCHED_TABLES = [
  'recognition_records',
  'faces',
  'person_identities',
  'stored_images',
  'outbox_events',
  'webhook_deliveries',
] as const;

export interface ErasureReport {
  identityId: string;
  recordsCleared: number;
  facesDeleted: number;
  imagesDeleted: number;
  eventsScrubbed: number;
  deliveriesScrubbed: number;
  storagePurged: boolean;
}

/**
 * Erases one identity's biometric data: images and feature vectors (and face landmarks) on its
 * records, its face library, and pending face-library events that would rebuild it. Images another
 * identity's record or face still uses are kept. The records themselves (who, where, when) stay.
 * Copies go too: image hashes in its records' outbox events (the stream replay source) and image links
 * and hashes in their webhook delivery bodies. Then the old row versions are purged from the database files.
 */
@Injectable()
export class ErasureService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly images: ImageReleaseService,
    private readonly audit: AuditService,
    private readonly config: AppConfig,
    private readonly storage: StoragePurgeService,
    @Optional() @Inject(PERSON_LINKS) private readonly persons?: PersonLinks,
  ) {}

  async eraseIdentity(identityId: string, actor: string): Promise<ErasureReport> {
    const d = this.uow.dialect;
    const found: { id: string; external_id: string }[] = await this.uow.dataSource.query(
      `SELECT id, external_id FROM identities WHERE id = ${d.p(1)}`,
      [identityId],
    );
    if (found.length === 0) throw identityNotFound();
    const report: ErasureReport = {
      identityId,
      recordsCleared: 0,
      facesDeleted: 0,
      imagesDeleted: 0,
      eventsScrubbed: 0,
      deliveriesScrubbed: 0,
      storagePurged: false,
    };
    const batch = this.config.get('RETENTION_BATCH_SIZE');
    const biometric = [...IMAGE_COLUMNS, 'feature', 'landmarks'].map((c) => `${c} IS NOT NULL`).join(' OR ');

    for (;;) {
      const rows = await this.uow.run(async (m) => {
        const rows: ({ id: string } & Record<string, string | null>)[] = await m.query(
          `SELECT id, ${IMAGE_COLUMNS.join(', ')} FROM recognition_records
           WHERE identity_id = ${d.p(1)} AND (${biometric}) LIMIT ${batch}`,
          [identityId],
        );
        if (rows.length === 0) return rows;
        const ids = rows.map((r) => r.id);
        await m.query(
          `UPDATE recognition_records SET ${[...IMAGE_COLUMNS, 'feature', 'landmarks'].map((c) => `${c} = NULL`).join(', ')}
           WHERE id IN (${d.params(1, ids.length)})`,
          ids,
        );
        return rows;
      });
      report.recordsCleared += rows.length;
      report.imagesDeleted += await this.images.release(rows.flatMap((r) => IMAGE_COLUMNS.map((c) => r[c])));
      if (rows.length < batch) break;
    }

    const faceImages = await this.uow.run(async (m) => {
      const faces: { image_sha256: string | null }[] = await m.query(`SELECT image_sha256 FROM faces WHERE identity_id = ${d.p(1)}`, [
        identityId,
      ]);
      await m.query(`DELETE FROM faces WHERE identity_id = ${d.p(1)}`, [identityId]);
      // The persons module's copy of the identity's first face (what linking compares).
      await this.persons?.forgetFeature(m, identityId);
      // Undelivered stranger/face-library events would put a face back from these records.
      await m.query(
        `DELETE FROM outbox_events WHERE aggregate_id IN (SELECT id FROM recognition_records WHERE identity_id = ${d.p(1)})
           AND processed_at IS NULL AND type IN (${d.params(2, FACE_EVENTS.length)})`,
        [identityId, ...FACE_EVENTS],
      );
      report.facesDeleted = faces.length;
      return faces.map((f) => f.image_sha256);
    });
    report.imagesDeleted += await this.images.release(faceImages);
    await this.scrubCopies(identityId, report);
    report.storagePurged = await this.storage.purge(TOUCHED_TABLES);

    await this.audit.record({
      actor,
      action: 'identity.biometrics-erased',
      subjectType: 'identity',
      subjectId: identityId,
      details: { externalId: found[0].external_id, ...report },
    });
    return report;
  }

  /** Image hashes and links in the outbox events and webhook delivery bodies of the identity's records. */
  private async scrubCopies(identityId: string, report: ErasureReport): Promise<void> {
    const d = this.uow.dialect;
    const batch = this.config.get('RETENTION_BATCH_SIZE');
    let after = '';
    for (;;) {
      const { ids, events, deliveries } = await this.uow.run(async (m) => {
        const scrubbed = { ids: [] as string[], events: 0, deliveries: 0 };
        const ids = (
          (await m.query(`SELECT id FROM recognition_records WHERE identity_id = ${d.p(1)} AND id > ${d.p(2)} ORDER BY id LIMIT ${batch}`, [
            identityId,
            after,
          ])) as { id: string }[]
        ).map((r) => r.id);
        scrubbed.ids = ids;
        if (ids.length === 0) return scrubbed;
        const list = d.params(1, ids.length);
        // A delivery still pending goes out with the scrubbed body (same webhook-id, so receivers still dedupe).
        const rewrite = async (table: 'outbox_events' | 'webhook_deliveries', rows: { id: string | number; payload: unknown }[]) => {
          let changed = 0;
          for (const row of rows) {
            const payload = withoutImageReferences(rowJson(row.payload));
            if (!payload) continue;
            await m.query(`UPDATE ${table} SET payload = ${d.p(1)} WHERE id = ${d.p(2)}`, [JSON.stringify(payload), row.id]);
            changed++;
          }
          return changed;
        };
        scrubbed.events = await rewrite(
          'outbox_events',
          await m.query(`SELECT id, payload FROM outbox_events WHERE aggregate_id IN (${list})`, ids),
        );
        scrubbed.deliveries = await rewrite(
          'webhook_deliveries',
          await m.query(
            `SELECT id, payload FROM webhook_deliveries WHERE event_id IN (SELECT id FROM outbox_events WHERE aggregate_id IN (${list}))`,
            ids,
          ),
        );
        return scrubbed;
      });
      report.eventsScrubbed += events;
      report.deliveriesScrubbed += deliveries;
      if (ids.length < batch) break;
      after = ids[ids.length - 1];
    }
  }
}
