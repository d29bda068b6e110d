import { Injectable, Optional } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { UnitOfWork } from '../database/unit-of-work';
import { DevicesService, mediaDeviceKey } from '../devices/devices.service';
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
import { NewRecordRow, RecordsStore } from '../recognition-records/records-store.service';
import { IngestRecognitionCommand, IngestResult } from './ingestion.types';

type ImageRefs = Partial<Record<ImageRole, StoredImageRef>>;

/** Per record of a push: its new id, or null when the event was already stored. */
type StoredIds = (string | null)[];

/** One push (one HTTP request): its records and their images, already durable in the store. */
interface Push {
  commands: IngestRecognitionCommand[];
  refs: ImageRefs[];
}

/** Pushes that will share one transaction. Closed when its transaction starts: later pushes go to the next one. */
interface Batch {
  pushes: Push[];
  records: number;
  closed: boolean;
  /** Each push's outcome: per record, its new id or null for a duplicate. */
  done: Promise<PromiseSettledResult<StoredIds>[]>;
}

/**
 * Stores recognition events. Images are written and flushed first (content-addressed, so an aborted ingest leaves
 * at most an unreferenced file); then the push joins the instance's batch writer: one transaction at a time, and
 * the pushes that arrive while it commits all go into the next one. A batch writes each table once, set-based,
 * through the table's owner: boxes, media devices and identities upserted, records inserted unless the same event
 * is already stored (unique key + ON CONFLICT DO NOTHING, exact across instances too), their domain events to the
 * outbox, the image index. A push that makes its batch fail is found by running the batch's pushes one per
 * transaction, so it fails alone. When ingest() resolves, everything of the push is committed (durable).
 */
@Injectable()
export class IngestionService {
  /** The batch that new pushes join, until its transaction starts. */
  private open: Batch | null = null;
  /** PostgreSQL: the end of the batch in flight (SQLite's UnitOfWork queues transactions itself). */
  private inFlight: Promise<unknown> = Promise.resolve();
  /** Transactions run and the pushes they carried (batches <= pushes), for tests and the bench. */
  readonly batches = { transactions: 0, pushes: 0, isolated: 0 };

  constructor(
    private readonly uow: UnitOfWork,
    private readonly devices: DevicesService,
    private readonly identities: IdentitiesService,
    private readonly records: RecordsStore,
    private readonly images: ImagesService,
    private readonly outbox: OutboxService,
    private readonly relay: OutboxRelay,
    @Optional() private readonly metrics?: MetricsService,
  ) {}

  async ingest(commands: IngestRecognitionCommand[]): Promise<IngestResult> {
    const refs = await Promise.all(commands.map((c) => this.writeImages(c)));
    const stored = await this.submit({ commands, refs });
    const result: IngestResult = { stored: 0, duplicates: 0, recordIds: [] };
    // A retention purge may have removed an image that was already stored when this ingest began.
    await this.images.restoreIfPurged(
      commands.flatMap((c, i) =>
        stored[i] ? IMAGE_ROLES.flatMap((role) => (refs[i][role] ? [{ ref: refs[i][role]!, image: c.images[role]! }] : [])) : [],
      ),
    );
    for (const s of stored) {
      if (s) {
        result.stored++;
        result.recordIds.push(s);
      } else result.duplicates++;
    }
    this.metrics?.observeIngest(
      commands.map((c, i) => ({ licenseKey: c.licenseKey, stored: stored[i] !== null, defective: c.defects.length > 0 })),
    );
    return result;
  }

  /** Adds the push to the open batch (opening one if needed); resolves with each record's new id, or null for a duplicate. */
  private async submit(push: Push): Promise<StoredIds> {
    let batch = this.open;
    if (!batch || batch.closed || batch.records + push.commands.length > MAX_BATCH_RECORDS) batch = this.openBatch();
    const index = batch.pushes.push(push) - 1;
    batch.records += push.commands.length;
    const outcome = (await batch.done)[index];
    if (outcome.status === 'rejected') throw outcome.reason;
    return outcome.value;
  }

  private openBatch(): Batch {
    const batch: Batch = { pushes: [], records: 0, closed: false, done: undefined as never };
    this.open = batch;
    const previous = this.inFlight;
    batch.done = (async () => {
      // PostgreSQL: one batch writer per instance; pushes arriving while the previous batch commits join this one.
      if (this.uow.dialect.kind === 'postgres') await previous.catch(() => undefined);
      return this.commitBatch(batch);
    })();
    this.inFlight = batch.done;
    return batch;
  }

  private async commitBatch(batch: Batch): Promise<PromiseSettledResult<StoredIds>[]> {
    let ids: StoredIds[];
    try {
      ids = await this.uow.run((manager) => {
        // Closed as its transaction starts (not when queued): what arrived meanwhile still joins.
        batch.closed = true;
        if (this.open === batch) this.open = null;
        return this.writeBatch(manager, batch.pushes);
      });
      this.batches.transactions++;
      this.batches.pushes += batch.pushes.length;
    } catch (error) {
      if (batch.pushes.length === 1) return [{ status: 'rejected', reason: error }];
      // Something in the batch failed and rolled it all back: one transaction per push, so only the culprit fails.
      this.batches.isolated++;
      const outcomes = await Promise.allSettled(batch.pushes.map((p) => this.uow.run((m) => this.writeBatch(m, [p]))));
      if (outcomes.some((o) => o.status === 'fulfilled' && o.value[0].some((id) => id))) this.relay.kick();
      return outcomes.map((o) => (o.status === 'fulfilled' ? { status: 'fulfilled', value: o.value[0] } : o));
    }
    if (ids.some((push) => push.some((id) => id))) this.relay.kick();
    return ids.map((value) => ({ status: 'fulfilled', value }));
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

  /**
   * One batch in the caller's transaction, each table once. Returns, per push and record, the new record's id or
   * null when the event was already stored. Runs again from scratch if PostgreSQL retries the transaction.
   */
  private async writeBatch(manager: EntityManager, pushes: Push[]): Promise<StoredIds[]> {
    const now = Date.now();
    const all = pushes.flatMap((p) => p.commands.map((c, i) => ({ c, refs: p.refs[i] })));
    // Boxes and cameras first seen in one batch are listed in the order they were first seen (first_seen_at, then
    // a random id): each new one is seen 1 ms after the one before it in the batch, as if written one by one.
    const boxRank = rankOfFirstAppearance(all.map(({ c }) => c.licenseKey));
    const boxIds = await this.devices.recordBoxSightings(
      manager,
      all.map(({ c }) => ({
        licenseKey: c.licenseKey,
        apiVersion: c.apiVersion,
        address: c.sourceAddress,
        seenAt: now + boxRank.get(c.licenseKey)!,
      })),
    );
    const deviceKey = ({ c }: { c: IngestRecognitionCommand }) => mediaDeviceKey(boxIds.get(c.licenseKey)!, c.mediaDevice.deviceId);
    const deviceRank = rankOfFirstAppearance(all.map(deviceKey));
    const deviceIds = await this.devices.recordMediaDeviceSightings(
      manager,
      all.map((r) => ({ boxId: boxIds.get(r.c.licenseKey)!, report: r.c.mediaDevice, seenAt: now + deviceRank.get(deviceKey(r))! })),
    );
    const people = all.filter(({ c }) => c.identityExternalId);
    const identityIds = people.length
      ? await this.identities.recordSightings(
          manager,
          people.map(({ c }) => ({
            externalId: c.identityExternalId,
            name: c.identityName,
            userType: c.userType,
            seenAt: c.occurredAt,
            now,
          })),
        )
      : new Map<string, string>();
    const rows = all.map(({ c, refs }) => {
      const boxId = boxIds.get(c.licenseKey)!;
      return toRow(c, refs, boxId, deviceIds.get(mediaDeviceKey(boxId, c.mediaDevice.deviceId))!, identityIds, now);
    });
    const inserted = await this.records.insertBatch(manager, rows);
    const stored = rows.map((r, i) => ({ r, i })).filter(({ r }) => inserted.has(r.id));
    await this.outbox.enqueueMany(
      manager,
      stored.map(({ r, i }) => ({ aggregateId: r.id, events: this.eventsFor(toRef(all[i].c, r), all[i].refs) })),
      now,
    );
    await this.images.index(
      manager,
      stored.flatMap(({ i }) => Object.values(all[i].refs)),
      now,
    );
    let next = 0;
    return pushes.map((p) =>
      p.commands.map(() => {
        const id = rows[next++].id;
        return inserted.has(id) ? id : null;
      }),
    );
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

/** Records per batch transaction, so one batch never holds the writer for long. */
const MAX_BATCH_RECORDS = 1000;

/** Each distinct key's position among the distinct keys, in order of first appearance. */
function rankOfFirstAppearance(keys: string[]): Map<string, number> {
  const rank = new Map<string, number>();
  for (const k of keys) if (!rank.has(k)) rank.set(k, rank.size);
  return rank;
}

function toRow(
  c: IngestRecognitionCommand,
  refs: ImageRefs,
  boxId: string,
  mediaDeviceId: string,
  identityIds: Map<string, string>,
  now: number,
): NewRecordRow {
  const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v));
  return {
    id: randomUUID(),
    boxId,
    mediaDeviceId,
    deviceExternalId: c.mediaDevice.deviceId,
    identityId: c.identityExternalId ? (identityIds.get(c.identityExternalId) ?? null) : null,
    identityExternalId: c.identityExternalId,
    identityName: c.identityName,
    userType: c.userType,
    occurredAt: c.occurredAt,
    boxTimestamp: c.boxTimestamp,
    enteredAt: c.enteredAt,
    leftAt: c.leftAt,
    scoreRaw: c.scoreRaw,
    score: c.score,
    postAction: c.postAction,
    apiVersion: c.apiVersion,
    attributes: json(c.attributes),
    landmarks: json(c.landmarks),
    faceBox: json(c.faceBox),
    feature: c.feature,
    regImageSha256: refs.registered?.sha256 ?? null,
    spotImageSha256: refs.scene?.sha256 ?? null,
    irImageSha256: refs.infrared?.sha256 ?? null,
    faceImageSha256: refs.face?.sha256 ?? null,
    defects: JSON.stringify(c.defects),
    hasDefects: c.defects.length > 0,
    extra: json(c.extra),
    sourceAddress: c.sourceAddress,
    receivedAt: now,
  };
}

function toRef(c: IngestRecognitionCommand, r: NewRecordRow): RecordRef {
  return {
    recordId: r.id,
    boxId: r.boxId,
    licenseKey: c.licenseKey,
    mediaDeviceId: r.mediaDeviceId,
    deviceExternalId: r.deviceExternalId,
    identityId: r.identityId,
    identityExternalId: c.identityExternalId,
    identityName: c.identityName,
    userType: c.userType,
    postAction: c.postAction,
    occurredAt: c.occurredAt,
    score: c.score,
    hasDefects: r.hasDefects,
  };
}
