import { Injectable, Logger } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { AppConfig } from '../config/app-config.service';
import { UnitOfWork } from '../database/unit-of-work';
import { ImageReleaseService } from './image-release.service';

const DAY_MS = 86_400_000;
const IMAGE_COLUMNS = ['reg_image_sha256', 'spot_image_sha256', 'ir_image_sha256', 'face_image_sha256'] as const;

type RecordImages = { id: string } & Record<(typeof IMAGE_COLUMNS)[number], string | null>;

export interface PurgeReport {
  imageCutoff: number | null;
  recordCutoff: number | null;
  /** Records whose image references were cleared. */
  recordsStripped: number;
  recordsDeleted: number;
  imagesDeleted: number;
}

/**
 * Retention by event time (the box's timestamp): records older than RETENTION_IMAGE_DAYS lose their
 * images, records older than RETENTION_RECORD_DAYS are deleted with their outbox rows and webhook delivery logs. Work goes in
 * small transactions of RETENTION_BATCH_SIZE rows so ingest keeps flowing between them.
 */
@Injectable()
export class RetentionService {
  private readonly logger = new Logger(RetentionService.name);
  private stopRequested = false;

  constructor(
    private readonly uow: UnitOfWork,
    private readonly images: ImageReleaseService,
    private readonly audit: AuditService,
    private readonly config: AppConfig,
  ) {}

  get enabled(): boolean {
    return this.config.get('RETENTION_IMAGE_DAYS') > 0 || this.config.get('RETENTION_RECORD_DAYS') > 0;
  }

  /** Ends a running purge after its current batch (shutdown). */
  requestStop(): void {
    this.stopRequested = true;
  }

  async purgeExpired(now = Date.now()): Promise<PurgeReport> {
    const imageDays = this.config.get('RETENTION_IMAGE_DAYS');
    const recordDays = this.config.get('RETENTION_RECORD_DAYS');
    const report: PurgeReport = {
      imageCutoff: imageDays > 0 ? now - imageDays * DAY_MS : null,
      recordCutoff: recordDays > 0 ? now - recordDays * DAY_MS : null,
      recordsStripped: 0,
      recordsDeleted: 0,
      imagesDeleted: 0,
    };
    await this.images.recoverQuarantine();
    if (report.recordCutoff !== null) await this.deleteRecords(report.recordCutoff, report);
    if (report.imageCutoff !== null) await this.stripImages(report.imageCutoff, report);
    if (report.recordsDeleted + report.recordsStripped + report.imagesDeleted > 0) {
      await this.audit.record({
        actor: 'system:retention',
        action: 'retention.purged',
        subjectType: 'recognition-records',
        subjectId: '*',
        details: { ...report },
      });
      this.logger.log(
        `retention purge: ${report.recordsDeleted} records deleted, ${report.recordsStripped} stripped of images, ${report.imagesDeleted} images deleted`,
      );
    }
    return report;
  }

  private async deleteRecords(cutoff: number, report: PurgeReport): Promise<void> {
    const d = this.uow.dialect;
    const batch = this.config.get('RETENTION_BATCH_SIZE');
    for (;;) {
      const rows = await this.uow.run(async (m) => {
        const rows: RecordImages[] = await m.query(
          `SELECT id, ${IMAGE_COLUMNS.join(', ')} FROM recognition_records WHERE occurred_at < ${d.p(1)}
           ORDER BY occurred_at LIMIT ${batch}`,
          [cutoff],
        );
        if (rows.length === 0) return rows;
        const ids = rows.map((r) => r.id);
        // Webhook delivery logs copy the event body (names, ids), so they expire with the record (attempts cascade).
        await m.query(
          `DELETE FROM webhook_deliveries WHERE event_id IN (SELECT id FROM outbox_events WHERE aggregate_id IN (${d.params(1, ids.length)}))`,
          ids,
        );
        await m.query(`DELETE FROM outbox_events WHERE aggregate_id IN (${d.params(1, ids.length)})`, ids);
        await m.query(`DELETE FROM recognition_records WHERE id IN (${d.params(1, ids.length)})`, ids);
        return rows;
      });
      report.recordsDeleted += rows.length;
      report.imagesDeleted += await this.images.release(rows.flatMap((r) => IMAGE_COLUMNS.map((c) => r[c])));
      if (rows.length < batch || this.stopRequested) return;
    }
  }

  private async stripImages(cutoff: number, report: PurgeReport): Promise<void> {
    const d = this.uow.dialect;
    const batch = this.config.get('RETENTION_BATCH_SIZE');
    const anyImage = IMAGE_COLUMNS.map((c) => `${c} IS NOT NULL`).join(' OR ');
    for (;;) {
      const rows = await this.uow.run(async (m) => {
        const rows: RecordImages[] = await m.query(
          `SELECT id, ${IMAGE_COLUMNS.join(', ')} FROM recognition_records
           WHERE occurred_at < ${d.p(1)} AND (${anyImage}) ORDER BY occurred_at LIMIT ${batch}`,
          [cutoff],
        );
        if (rows.length === 0) return rows;
        const ids = rows.map((r) => r.id);
        await m.query(
          `UPDATE recognition_records SET ${IMAGE_COLUMNS.map((c) => `${c} = NULL`).join(', ')}
           WHERE id IN (${d.params(1, ids.length)})`,
          ids,
        );
        return rows;
      });
      report.recordsStripped += rows.length;
      report.imagesDeleted += await this.images.release(rows.flatMap((r) => IMAGE_COLUMNS.map((c) => r[c])));
      if (rows.length < batch || this.stopRequested) return;
    }
  }
}
