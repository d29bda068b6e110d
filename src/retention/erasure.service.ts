import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { AppConfig } from '../config/app-config.service';
import { UnitOfWork } from '../database/unit-of-work';
import { ImageReleaseService } from './image-release.service';

const IMAGE_COLUMNS = ['reg_image_sha256', 'spot_image_sha256', 'ir_image_sha256', 'face_image_sha256'] as const;
const FACE_EVENTS = ['identity.stranger-registered', 'identity.face-library-updated'];

export interface ErasureReport {
  identityId: string;
  recordsCleared: number;
  facesDeleted: number;
  imagesDeleted: number;
}

/**
 * Erases one identity's biometric data: images and feature vectors (and face landmarks) on its
 * records, its face library, and pending face-library events that would rebuild it. Images another
 * identity's record or face still uses are kept. The records themselves (who, where, when) stay.
 */
@Injectable()
export class ErasureService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly images: ImageReleaseService,
    private readonly audit: AuditService,
    private readonly config: AppConfig,
  ) {}

  /** Null when there is no such identity. */
  async eraseIdentity(identityId: string, actor: string): Promise<ErasureReport | null> {
    const d = this.uow.dialect;
    const found: { id: string; external_id: string }[] = await this.uow.dataSource.query(
      `SELECT id, external_id FROM identities WHERE id = ${d.p(1)}`,
      [identityId],
    );
    if (found.length === 0) return null;
    const report: ErasureReport = { identityId, recordsCleared: 0, facesDeleted: 0, imagesDeleted: 0 };
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
      const faces: { image_sha256: string | null }[] = await m.query(
        `SELECT image_sha256 FROM faces WHERE identity_id = ${d.p(1)}`,
        [identityId],
      );
      await m.query(`DELETE FROM faces WHERE identity_id = ${d.p(1)}`, [identityId]);
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

    await this.audit.record({
      actor,
      action: 'identity.biometrics-erased',
      subjectType: 'identity',
      subjectId: identityId,
      details: { externalId: found[0].external_id, ...report },
    });
    return report;
  }
}
