import { Inject, Injectable, Optional } from '@nestjs/common';
import { In } from 'typeorm';
import { decodeCursor, encodeCursor } from '../common/cursor';
import { floatsOf } from '../common/float-vector';
import { UnitOfWork } from '../database/unit-of-work';
import type { BoxSummary, MediaDeviceSummary } from '../devices/devices.types';
import { DevicesService } from '../devices/devices.service';
import { ImagesService } from '../images/images.service';
import { PERSON_LINKS, type PersonLinks } from './person-links.types';
import { RecognitionRecord } from './entities/recognition-record.entity';
import { IMAGE_ROLES, ImageRole } from './recognition-record.types';
import { recordFeatureMissing, recordImageMissing, recordNotFound } from './record-errors';
import { IMAGE_PROPERTY, readRecordViews, RecordView, selectRecordView } from './record-rows';

export interface RecordFilter {
  from?: number;
  to?: number;
  boxId?: string;
  mediaDeviceId?: string;
  identityId?: string;
  /** Records of any identity of this person (see src/persons). */
  personId?: string;
  identityExternalId?: string;
  userType?: string;
  postAction?: string;
  minScore?: number;
  hasDefects?: boolean;
}

export interface RecordKey {
  t: number;
  id: string;
}

export interface RecordDetailView extends RecordView {
  box: BoxSummary | null;
  mediaDevice: MediaDeviceSummary | null;
  imageMeta: Partial<Record<ImageRole, { contentType: string; byteSize: number }>>;
}

/** What the event feed needs of a record to filter and link its events. */
export interface RecordFeedFacts {
  boxId: string;
  userType: string | null;
  /** sha256 of each stored image, by role (null where the record has none). */
  imageSha256: Record<ImageRole, string | null>;
}

export interface ImageRef {
  sha256: string;
  contentType: string;
}

/**
 * Reads records for the consumer API, newest first by (occurred_at, id). Pages are keyset
 * ranges below the last row seen, so records arriving meanwhile never shift or repeat rows.
 */
@Injectable()
export class RecordsQueryService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly devices: DevicesService,
    private readonly images: ImagesService,
    @Optional() @Inject(PERSON_LINKS) private readonly persons?: PersonLinks,
  ) {}

  /** Feed facts of those of these ids that are records (other ids, e.g. identities', are skipped). */
  async feedFacts(ids: string[]): Promise<Map<string, RecordFeedFacts>> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return new Map();
    const rows = await this.records().find({
      select: {
        id: true,
        boxId: true,
        userType: true,
        regImageSha256: true,
        spotImageSha256: true,
        irImageSha256: true,
        faceImageSha256: true,
      },
      where: { id: In(unique) },
    });
    return new Map(
      rows.map((r) => [
        r.id,
        {
          boxId: r.boxId,
          userType: r.userType,
          imageSha256: { registered: r.regImageSha256, scene: r.spotImageSha256, infrared: r.irImageSha256, face: r.faceImageSha256 },
        },
      ]),
    );
  }

  async list(filter: RecordFilter, limit: number, cursor?: string): Promise<{ items: RecordView[]; nextCursor: string | null }> {
    const after = cursor ? decodeCursor<RecordKey>(cursor, { t: 'number', id: 'string' }) : undefined;
    const items = await this.page(filter, limit + 1, after);
    const more = items.length > limit;
    const page = items.slice(0, limit);
    const last = page[page.length - 1];
    return { items: page, nextCursor: more ? encodeCursor({ t: last.occurredAt, id: last.id }) : null };
  }

  /** One keyset page: rows strictly older than `after` in (occurred_at DESC, id DESC) order. */
  async page(filter: RecordFilter, limit: number, after?: RecordKey): Promise<RecordView[]> {
    const qb = selectRecordView(this.records().createQueryBuilder('r'));
    const where: [string, Record<string, unknown>][] = [];
    if (filter.from !== undefined) where.push(['r.occurredAt >= :from', { from: filter.from }]);
    if (filter.to !== undefined) where.push(['r.occurredAt < :to', { to: filter.to }]);
    if (filter.boxId) where.push(['r.boxId = :boxId', { boxId: filter.boxId }]);
    if (filter.mediaDeviceId) where.push(['r.mediaDeviceId = :mediaDeviceId', { mediaDeviceId: filter.mediaDeviceId }]);
    if (filter.identityId) where.push(['r.identityId = :identityId', { identityId: filter.identityId }]);
    if (filter.personId) {
      // The person's identities, from the persons module; an unknown person has none, and so no records.
      const ids = (await this.persons?.identityIdsOf(filter.personId)) ?? [];
      if (ids.length === 0) return [];
      where.push(['r.identityId IN (:...personIdentityIds)', { personIdentityIds: ids }]);
    }
    if (filter.identityExternalId !== undefined) {
      where.push(['r.identityExternalId = :identityExternalId', { identityExternalId: filter.identityExternalId }]);
    }
    if (filter.userType) where.push(['r.userType = :userType', { userType: filter.userType }]);
    if (filter.postAction) where.push(['r.postAction = :postAction', { postAction: filter.postAction }]);
    if (filter.minScore !== undefined) where.push(['r.score >= :minScore', { minScore: filter.minScore }]);
    if (filter.hasDefects !== undefined) where.push(['r.hasDefects = :hasDefects', { hasDefects: filter.hasDefects }]);
    // Row-value comparison: one index range scan on (occurred_at, id) on both databases.
    if (after) where.push(['(r.occurredAt, r.id) < (:afterT, :afterId)', { afterT: after.t, afterId: after.id }]);
    for (const [condition, params] of where) qb.andWhere(condition, params);
    // limit(), not take(): a plain LIMIT (take() would plan for joins this query does not have).
    return readRecordViews(qb.orderBy('r.occurredAt', 'DESC').addOrderBy('r.id', 'DESC').limit(limit));
  }

  /** One record, with its box's and media device's names (devices module) and its images' types and sizes (images module). */
  async get(id: string): Promise<RecordDetailView> {
    const [view] = await readRecordViews(selectRecordView(this.records().createQueryBuilder('r')).where('r.id = :id', { id }));
    if (!view) throw recordNotFound();
    const [boxes, mediaDevices, images] = await Promise.all([
      this.devices.boxSummaries([view.boxId]),
      this.devices.mediaDeviceSummaries([view.mediaDeviceId]),
      this.images.describe(Object.values(view.images)),
    ]);
    const imageMeta: RecordDetailView['imageMeta'] = {};
    for (const role of IMAGE_ROLES) {
      const m = images.get(view.images[role] ?? '');
      if (m) imageMeta[role] = { contentType: m.contentType, byteSize: m.byteSize };
    }
    return { ...view, box: boxes.get(view.boxId) ?? null, mediaDevice: mediaDevices.get(view.mediaDeviceId) ?? null, imageMeta };
  }

  /** The stored image of one role, or 404 naming what is missing. */
  async imageRef(id: string, role: ImageRole): Promise<ImageRef> {
    const property = IMAGE_PROPERTY[role];
    const r = await this.records().findOne({ select: { id: true, [property]: true }, where: { id } });
    if (!r) throw recordNotFound();
    const sha256 = r[property];
    if (!sha256) throw recordImageMissing(role);
    return this.images.ref(sha256);
  }

  /** The feature vector as float32 values, or 404. */
  async feature(id: string): Promise<number[]> {
    const r = await this.records().findOne({ select: { id: true, feature: true }, where: { id } });
    if (!r) throw recordNotFound();
    if (!r.feature) throw recordFeatureMissing();
    return floatsOf(r.feature);
  }

  private records() {
    return this.uow.dataSource.getRepository(RecognitionRecord);
  }
}
