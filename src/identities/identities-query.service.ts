import { Inject, Injectable, Optional } from '@nestjs/common';
import { decodeCursor, encodeCursor } from '../common/cursor';
import { floatsOf } from '../common/float-vector';
import { rowBool } from '../database/row-values';
import { UnitOfWork } from '../database/unit-of-work';
import { ImagesService } from '../images/images.service';
import { RecordSummaryDto } from '../recognition-records/dto/record.dto';
import { RecordsStore } from '../recognition-records/records-store.service';
import { FaceDto, IdentityDetailDto, IdentityDto } from './dto/identity.dto';
import { Face } from './entities/face.entity';
import { Identity } from './entities/identity.entity';
import { PERSON_LINKS, type PersonLinks } from '../recognition-records/person-links.types';
import { faceFeatureMissing, faceImageMissing, faceNotFound, identityMerged, identityNotFound } from './identity-errors';

export interface IdentityFilter {
  q?: string;
  externalId?: string;
  userType?: string;
}

function toIdentityDto(i: Identity): IdentityDto {
  return {
    id: i.id,
    externalId: i.externalId,
    name: i.name,
    userType: i.userType,
    firstSeenAt: i.firstSeenAt,
    lastSeenAt: i.lastSeenAt,
    updatedAt: i.updatedAt,
    editedAt: i.editedAt,
  };
}

function toFaceDto(f: Face, hasFeature: boolean): FaceDto {
  return {
    id: f.id,
    source: f.source,
    sourceRecordId: f.sourceRecordId,
    imageSha256: f.imageSha256,
    imageUrl: f.imageSha256 ? `/identities/${f.identityId}/faces/${f.id}/image` : null,
    hasFeature,
    isCurrent: f.isCurrent,
    capturedAt: f.capturedAt,
    createdAt: f.createdAt,
  };
}

/** Identities and their face libraries for the consumer API (no image bytes, no features). */
@Injectable()
export class IdentitiesQueryService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly records: RecordsStore,
    private readonly images: ImagesService,
    @Optional() @Inject(PERSON_LINKS) private readonly persons?: PersonLinks,
  ) {}

  /** Most recently seen first, keyset-paginated by (last_seen_at, id). */
  async list(f: IdentityFilter, limit: number, cursor?: string): Promise<{ items: IdentityDto[]; nextCursor: string | null }> {
    // Merged identities stay only as aliases for ingestion; the API shows their target.
    const qb = this.uow.dataSource.getRepository(Identity).createQueryBuilder('i').where('i.mergedIntoId IS NULL');
    if (f.q) {
      const like = `%${f.q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      qb.andWhere(`(i.externalId = :q OR LOWER(i.name) LIKE :like ESCAPE '\\')`, { q: f.q, like });
    }
    if (f.externalId) qb.andWhere('i.externalId = :externalId', { externalId: f.externalId });
    if (f.userType) qb.andWhere('i.userType = :userType', { userType: f.userType });
    if (cursor) {
      const after = decodeCursor<{ t: number; id: string }>(cursor, { t: 'number', id: 'string' });
      qb.andWhere('(i.lastSeenAt, i.id) < (:afterT, :afterId)', { afterT: after.t, afterId: after.id });
    }
    const rows = await qb
      .orderBy('i.lastSeenAt', 'DESC')
      .addOrderBy('i.id', 'DESC')
      .limit(limit + 1)
      .getMany();
    const items = rows.slice(0, limit).map(toIdentityDto);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit ? encodeCursor({ t: last.lastSeenAt, id: last.id }) : null };
  }

  async get(id: string): Promise<IdentityDetailDto> {
    const identity = await this.uow.dataSource.getRepository(Identity).findOneBy({ id });
    if (!identity) throw identityNotFound();
    if (identity.mergedIntoId) throw identityMerged(identity.mergedIntoId);
    // Every column but the feature, and whether one exists.
    const { entities, raw } = await this.uow.dataSource
      .getRepository(Face)
      .createQueryBuilder('f')
      .select(['f.id', 'f.identityId', 'f.source', 'f.sourceRecordId', 'f.imageSha256', 'f.isCurrent', 'f.capturedAt', 'f.createdAt'])
      .addSelect('CASE WHEN f.feature IS NULL THEN 0 ELSE 1 END', 'has_feature')
      .where('f.identityId = :id', { id })
      .orderBy('f.capturedAt', 'DESC')
      .addOrderBy('f.sourceRecordId', 'DESC')
      .getRawAndEntities<{ has_feature: unknown }>();
    const faces = entities.map((f, i) => toFaceDto(f, rowBool(raw[i].has_feature)));
    const [records, recordCount] = await Promise.all([this.records.latestOfIdentity(id, 10), this.records.countOfIdentity(id)]);
    return {
      ...toIdentityDto(identity),
      personId: (await this.persons?.personOf(id)) ?? null,
      currentFace: faces.find((f) => f.isCurrent) ?? null,
      faceHistory: faces.filter((f) => !f.isCurrent),
      recordCount,
      latestRecords: records.map((r) => RecordSummaryDto.from(r)),
    };
  }

  /** A face's image reference, checked to belong to the identity; the content type comes from the images module. */
  async faceImage(identityId: string, faceId: string): Promise<{ sha256: string; contentType: string }> {
    const face = await this.uow.dataSource
      .getRepository(Face)
      .findOne({ select: { id: true, imageSha256: true }, where: { id: faceId, identityId } });
    if (!face) throw faceNotFound();
    if (!face.imageSha256) throw faceImageMissing();
    return this.images.ref(face.imageSha256);
  }

  async faceFeature(identityId: string, faceId: string): Promise<number[]> {
    const face = await this.uow.dataSource
      .getRepository(Face)
      .findOne({ select: { id: true, feature: true }, where: { id: faceId, identityId } });
    if (!face) throw faceNotFound();
    if (!face.feature) throw faceFeatureMissing();
    return floatsOf(face.feature);
  }
}
