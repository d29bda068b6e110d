import { Injectable, Optional } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { UnitOfWork } from '../database/unit-of-work';
import { DevicesService } from '../devices/devices.service';
import {
  BlacklistSeenEvent,
  DomainEvent,
  FaceLibraryUpdatedEvent,
  RecognitionRecordedEvent,
  RecordRef,
  StrangerRegisteredEvent,
  VipSeenEvent,
} from '../events/domain-events';
import { OutboxRelay } from '../events/outbox-relay.service';
import { OutboxService } from '../events/outbox.service';
import { IdentitiesService } from '../identities/identities.service';
import { ImagesService, StoredImageRef } from '../images/images.service';
import { MetricsService } from '../metrics/metrics.service';
import { IMAGE_ROLES, ImageRole } from '../recognition-records/recognition-record.types';
import { IngestRecognitionCommand, IngestResult } from './ingestion.types';

type ImageRefs = Partial<Record<ImageRole, StoredImageRef>>;
interface Sighting {
  boxId: string;
  mediaDeviceId: string;
  identityId: string | null;
}

/**
 * Stores recognition events. Images are written and flushed first (content-addressed, so an
 * aborted ingest leaves at most an unreferenced file), then one transaction upserts box, media
 * device and identity, inserts the record unless the same event is already stored, and writes its
 * domain events to the outbox. When ingest() resolves, everything is durable.
 */
@Injectable()
export class IngestionService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly devices: DevicesService,
    private readonly identities: IdentitiesService,
    private readonly images: ImagesService,
    private readonly outbox: OutboxService,
    private readonly relay: OutboxRelay,
    @Optional() private readonly metrics?: MetricsService,
  ) {}

  async ingest(commands: IngestRecognitionCommand[]): Promise<IngestResult> {
    const refs = await Promise.all(commands.map((c) => this.writeImages(c)));
    const stored: boolean[] = [];
    const result = await this.uow.run(async (manager) => {
      const out: IngestResult = { stored: 0, duplicates: 0, recordIds: [] };
      const now = Date.now();
      const sightings = await this.recordSightings(manager, commands);
      for (let i = 0; i < commands.length; i++) {
        const id = await this.storeOne(manager, commands[i], refs[i], sightings[i], now);
        stored[i] = id !== null;
        if (id) {
          out.stored++;
          out.recordIds.push(id);
        } else out.duplicates++;
      }
      // Sorted, for the same reason as the sightings: pushes sharing images must not lock them in opposite orders.
      const storedRefs = refs.flatMap((r, i) => (stored[i] ? Object.values(r) : []));
      await this.images.index(
        manager,
        storedRefs.sort((a, b) => (a.sha256 < b.sha256 ? -1 : a.sha256 > b.sha256 ? 1 : 0)),
        now,
      );
      return out;
    });
    // A retention purge may have removed an image that was already stored when this ingest began.
    await this.images.restoreIfPurged(
      commands.flatMap((c, i) =>
        stored[i] ? IMAGE_ROLES.flatMap((role) => (refs[i][role] ? [{ ref: refs[i][role]!, image: c.images[role]! }] : [])) : [],
      ),
    );
    if (result.stored > 0) this.relay.kick();
    this.metrics?.observeIngest(commands.map((c, i) => ({ licenseKey: c.licenseKey, stored: stored[i], defective: c.defects.length > 0 })));
    return result;
  }

  private async writeImages(c: IngestRecognitionCommand): Promise<ImageRefs> {
    const refs: ImageRefs = {};
    await Promise.all(
      IMAGE_ROLES.map(async (role) => {
        const image = c.images[role];
        if (image) refs[role] = await this.images.write(image);
      }),
    );
    return refs;
  }

  /** Returns the new record's id, or null when this event was already stored. */
  /**
   * On PostgreSQL, first locks the existing box, media device and identity rows a push will update, each kind in
   * key order: concurrent pushes sharing rows then wait for each other instead of locking them in opposite
   * orders (array pushes mixing boxes and identities deadlocked, found by bench/memory.mjs). SQLite has a single
   * writer. The upserts then run one record at a time, in push order, as before.
   */
  private async recordSightings(manager: EntityManager, commands: IngestRecognitionCommand[]): Promise<Sighting[]> {
    if (this.uow.dialect.kind === 'postgres' && commands.length > 1) {
      const sorted = (values: string[]) => [...new Set(values)].sort();
      const keys = sorted(commands.map((c) => c.licenseKey));
      await manager.query('SELECT id FROM boxes WHERE license_key = ANY($1) ORDER BY license_key FOR UPDATE', [keys]);
      await manager.query(
        `SELECT id FROM media_devices WHERE box_id IN (SELECT id FROM boxes WHERE license_key = ANY($1)) AND device_id = ANY($2)
         ORDER BY box_id, device_id FOR UPDATE`,
        [keys, sorted(commands.map((c) => c.mediaDevice.deviceId))],
      );
      const people = sorted(commands.map((c) => c.identityExternalId).filter((x) => x));
      if (people.length)
        await manager.query('SELECT id FROM identities WHERE external_id = ANY($1) ORDER BY external_id FOR UPDATE', [people]);
    }
    const out: Sighting[] = [];
    for (const c of commands) {
      const now = Date.now();
      const boxId = await this.devices.recordBoxSighting(manager, {
        licenseKey: c.licenseKey,
        apiVersion: c.apiVersion,
        address: c.sourceAddress,
        seenAt: now,
      });
      const mediaDeviceId = await this.devices.recordMediaDeviceSighting(manager, boxId, c.mediaDevice, now);
      const identityId = c.identityExternalId
        ? await this.identities.recordSighting(manager, {
            externalId: c.identityExternalId,
            name: c.identityName,
            userType: c.userType,
            seenAt: c.occurredAt,
            now,
          })
        : null;
      out.push({ boxId, mediaDeviceId, identityId });
    }
    return out;
  }

  private async storeOne(
    manager: EntityManager,
    c: IngestRecognitionCommand,
    refs: ImageRefs,
    { boxId, mediaDeviceId, identityId }: Sighting,
    now: number,
  ): Promise<string | null> {
    const d = this.uow.dialect;
    const id = randomUUID();
    const hasDefects = c.defects.length > 0;
    const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v));
    const values = [
      id,
      boxId,
      mediaDeviceId,
      c.mediaDevice.deviceId,
      identityId,
      c.identityExternalId,
      c.identityName,
      c.userType,
      c.occurredAt,
      c.boxTimestamp,
      c.enteredAt,
      c.leftAt,
      c.scoreRaw,
      c.score,
      c.postAction,
      c.apiVersion,
      json(c.attributes),
      json(c.landmarks),
      json(c.faceBox),
      c.feature,
      refs.registered?.sha256 ?? null,
      refs.scene?.sha256 ?? null,
      refs.infrared?.sha256 ?? null,
      refs.face?.sha256 ?? null,
      JSON.stringify(c.defects),
      d.boolParam(hasDefects),
      json(c.extra),
      c.sourceAddress,
      now,
    ];
    const inserted: { id: string }[] = await manager.query(
      `INSERT INTO recognition_records (id, box_id, media_device_id, device_external_id, identity_id,
         identity_external_id, identity_name, user_type, occurred_at, box_timestamp, entered_at, left_at, score_raw, score,
         post_action, api_version, attributes, landmarks, face_box, feature, reg_image_sha256, spot_image_sha256,
         ir_image_sha256, face_image_sha256, defects, has_defects, extra, source_address, received_at)
       VALUES (${d.params(1, values.length)})
       ON CONFLICT (box_id, device_external_id, identity_external_id, box_timestamp) DO NOTHING
       RETURNING id`,
      values,
    );
    if (inserted.length === 0) return null;

    const ref: RecordRef = {
      recordId: id,
      boxId,
      licenseKey: c.licenseKey,
      mediaDeviceId,
      deviceExternalId: c.mediaDevice.deviceId,
      identityId,
      identityExternalId: c.identityExternalId,
      identityName: c.identityName,
      userType: c.userType,
      postAction: c.postAction,
      occurredAt: c.occurredAt,
      score: c.score,
      hasDefects,
    };
    await this.outbox.enqueue(manager, id, this.eventsFor(ref, refs), now);
    return id;
  }

  private eventsFor(ref: RecordRef, refs: ImageRefs): DomainEvent[] {
    const events: DomainEvent[] = [new RecognitionRecordedEvent(ref)];
    if (ref.identityId && (ref.postAction === '1001' || ref.postAction === '1002')) {
      const face = {
        recordId: ref.recordId,
        identityId: ref.identityId,
        identityExternalId: ref.identityExternalId,
        imageSha256: refs.registered?.sha256 ?? refs.face?.sha256 ?? null,
        occurredAt: ref.occurredAt,
      };
      events.push(ref.postAction === '1001' ? new StrangerRegisteredEvent(face) : new FaceLibraryUpdatedEvent(face));
    }
    if (ref.userType === 'blacklist') events.push(new BlacklistSeenEvent(ref));
    if (ref.userType === 'vip') events.push(new VipSeenEvent(ref));
    return events;
  }
}
