import { Injectable, Logger } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { AppConfig } from '../config/app-config.service';
import { UnitOfWork } from '../database/unit-of-work';
import { RetentionRecordsDeletedEvent } from '../events/domain-events';
import { OutboxRelay } from '../events/outbox-relay.service';
import { OutboxService } from '../events/outbox.service';
import { WebhookDeliveriesService } from '../integrations/webhooks/webhook-deliveries.service';
import { RecordsStore } from '../recognition-records/records-store.service';
import { ImageReleaseService } from './image-release.service';

const DAY_MS = 86_400_000;

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
 * small transactions of RETENTION_BATCH_SIZE rows so ingest keeps flowing between them. An orchestrator only: each
 * table is changed by its owner's service (records, outbox, webhook deliveries, images), in the batch's transaction.
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
    private readonly records: RecordsStore,
    private readonly outbox: OutboxService,
    private readonly deliveries: WebhookDeliveriesService,
    private readonly relay: OutboxRelay,
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
    report.imagesDeleted += await this.images.finishInterrupted();
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
    const batch = this.config.get('RETENTION_BATCH_SIZE');
    for (;;) {
      const gone = await this.uow.run(async (m) => {
        const gone = await this.records.deleteOlderThan(m, cutoff, batch);
        // Webhook delivery logs copy the event body (names, ids), so they expire with the record (attempts cascade).
        await this.deliveries.removeOfEvents(m, await this.outbox.removeOfAggregates(m, gone.ids));
        // Every instance's face index drops these records' vectors (and rewrites its snapshot) on this event.
        if (gone.ids.length > 0) {
          await this.outbox.enqueue(m, 'retention', [new RetentionRecordsDeletedEvent({ recordIds: gone.ids, cutoff })], Date.now());
        }
        return { ids: gone.ids, images: await this.images.schedule(m, gone.imageSha256s) };
      });
      report.recordsDeleted += gone.ids.length;
      report.imagesDeleted += await this.images.release(gone.images);
      if (gone.ids.length > 0) this.relay.kick();
      if (gone.ids.length < batch || this.stopRequested) return;
    }
  }

  private async stripImages(cutoff: number, report: PurgeReport): Promise<void> {
    const batch = this.config.get('RETENTION_BATCH_SIZE');
    for (;;) {
      const stripped = await this.uow.run(async (m) => {
        const stripped = await this.records.stripImagesOlderThan(m, cutoff, batch);
        return { ids: stripped.ids, images: await this.images.schedule(m, stripped.imageSha256s) };
      });
      report.recordsStripped += stripped.ids.length;
      report.imagesDeleted += await this.images.release(stripped.images);
      if (stripped.ids.length < batch || this.stopRequested) return;
    }
  }
}
