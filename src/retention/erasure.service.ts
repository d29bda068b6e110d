import { Inject, Injectable, Optional } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { AppConfig } from '../config/app-config.service';
import { UnitOfWork } from '../database/unit-of-work';
import { IdentityBiometricsErasedEvent, type DomainEventType } from '../events/domain-events';
import { OutboxRelay } from '../events/outbox-relay.service';
import { OutboxService } from '../events/outbox.service';
import { FaceLibraryService } from '../identities/face-library.service';
import { IdentitiesService } from '../identities/identities.service';
import { identityNotFound } from '../identities/identity-errors';
import { PERSON_LINKS, type PersonLinks } from '../recognition-records/person-links.types';
import { WebhookDeliveriesService } from '../integrations/webhooks/webhook-deliveries.service';
import { RecordsStore } from '../recognition-records/records-store.service';
import { ImageReleaseService } from './image-release.service';
import { StoragePurgeService } from './storage-purge.service';

const FACE_EVENTS: DomainEventType[] = ['identity.stranger-registered', 'identity.face-library-updated'];
/**
 * Tables erasure updates or deletes from (through their owners' services): their old row versions hold what was
 * erased, so the physical purge names them.
 */
const TOUCHED_TABLES = [
  'recognition_records',
  'faces',
  'person_identities',
  'stored_images',
  'pending_image_releases',
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
 * An orchestrator only: each table is changed by its owner's service, in the batch's transaction.
 */
@Injectable()
export class ErasureService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly images: ImageReleaseService,
    private readonly audit: AuditService,
    private readonly config: AppConfig,
    private readonly storage: StoragePurgeService,
    private readonly identities: IdentitiesService,
    private readonly faces: FaceLibraryService,
    private readonly records: RecordsStore,
    private readonly outbox: OutboxService,
    private readonly deliveries: WebhookDeliveriesService,
    private readonly relay: OutboxRelay,
    @Optional() @Inject(PERSON_LINKS) private readonly persons?: PersonLinks,
  ) {}

  async eraseIdentity(identityId: string, actor: string): Promise<ErasureReport> {
    const externalId = await this.identities.externalIdOf(identityId);
    if (externalId === null) throw identityNotFound();
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
    // A run (erasure or retention) killed mid-way may have cleared records whose images it had not released yet.
    report.imagesDeleted += await this.images.finishInterrupted();

    for (;;) {
      const cleared = await this.uow.run(async (m) => {
        const cleared = await this.records.eraseBiometricsOfIdentity(m, identityId, batch);
        // Every instance's face index drops these records' vectors (and rewrites its snapshot) on this event.
        if (cleared.ids.length > 0) {
          const erasure = { identityId, identityExternalId: externalId, recordIds: cleared.ids, erasedBy: actor };
          await this.outbox.enqueue(m, identityId, [new IdentityBiometricsErasedEvent(erasure)], Date.now());
        }
        return { ids: cleared.ids, images: await this.images.schedule(m, cleared.imageSha256s) };
      });
      report.recordsCleared += cleared.ids.length;
      report.imagesDeleted += await this.images.release(cleared.images);
      if (cleared.ids.length > 0) this.relay.kick();
      if (cleared.ids.length < batch) break;
    }

    const faceImages = await this.uow.run(async (m) => {
      const erased = await this.faces.eraseOfIdentity(m, identityId);
      // The persons module's copy of the identity's first face (what linking compares).
      await this.persons?.forgetFeature(m, identityId);
      // Undelivered stranger/face-library events would put a face back from these records.
      const pending = await this.outbox.unrelayed(m, FACE_EVENTS);
      const mine = new Set(await this.records.ofIdentity(m, identityId, [...new Set(pending.map((e) => e.aggregateId))]));
      await this.outbox.remove(
        m,
        pending.filter((e) => mine.has(e.aggregateId)).map((e) => e.id),
      );
      report.facesDeleted = erased.facesDeleted;
      return this.images.schedule(m, erased.imageSha256s);
    });
    report.imagesDeleted += await this.images.release(faceImages);
    await this.scrubCopies(identityId, report);
    report.storagePurged = await this.storage.purge(TOUCHED_TABLES);

    await this.audit.record({
      actor,
      action: 'identity.biometrics-erased',
      subjectType: 'identity',
      subjectId: identityId,
      details: { externalId, ...report },
    });
    return report;
  }

  /** Image hashes and links in the outbox events and webhook delivery bodies of the identity's records. */
  private async scrubCopies(identityId: string, report: ErasureReport): Promise<void> {
    const batch = this.config.get('RETENTION_BATCH_SIZE');
    let after = '';
    for (;;) {
      const { ids, events, deliveries } = await this.uow.run(async (m) => {
        const ids = await this.records.idsOfIdentity(m, identityId, after, batch);
        const events = await this.outbox.scrubImageReferences(m, ids);
        const deliveries = await this.deliveries.scrubImageReferences(m, events.eventIds);
        return { ids, events: events.scrubbed, deliveries };
      });
      report.eventsScrubbed += events;
      report.deliveriesScrubbed += deliveries;
      if (ids.length < batch) break;
      after = ids[ids.length - 1];
    }
  }
}
