import { Inject, Injectable, Optional } from '@nestjs/common';
import { decodeCursor, encodeCursor } from '../common/cursor';
import { rowBool, rowNumber } from '../database/row-values';
import { UnitOfWork } from '../database/unit-of-work';
import { RecordSummaryDto } from '../recognition-records/dto/record.dto';
import { RecordsStore } from '../recognition-records/records-store.service';
import { floatsOf } from '../recognition-records/records-query.service';
import { FaceDto, IdentityDetailDto, IdentityDto } from './dto/identity.dto';
import { PERSON_LINKS, type PersonLinks } from './person-links.types';
import { faceFeatureMissing, faceImageMissing, faceNotFound, identityMerged, identityNotFound } from './identity-errors';

type Row = Record<string, unknown>;

export interface IdentityFilter {
  q?: string;
  externalId?: string;
  userType?: string;
}

export function toIdentityDto(r: Row): IdentityDto {
  return {
    id: r.id as string,
    externalId: r.external_id as string,
    name: (r.name as string | null) ?? null,
    userType: (r.user_type as string | null) ?? null,
    firstSeenAt: Number(r.first_seen_at),
    lastSeenAt: Number(r.last_seen_at),
    updatedAt: Number(r.updated_at),
    editedAt: rowNumber(r.edited_at),
  };
}

function toFaceDto(r: Row): FaceDto {
  const image = (r.image_sha256 as string | null) ?? null;
  return {
    id: r.id as string,
    source: r.source as string,
    sourceRecordId: r.source_record_id as string,
    imageSha256: image,
    imageUrl: image ? `/identities/${r.identity_id as string}/faces/${r.id as string}/image` : null,
    hasFeature: rowBool(r.has_feature),
    isCurrent: rowBool(r.is_current),
    capturedAt: Number(r.captured_at),
    createdAt: Number(r.created_at),
  };
}

/** Identities and their face libraries for the consumer API (no image bytes, no features). */
@Injectable()
export class IdentitiesQueryService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly records: RecordsStore,
    @Optional() @Inject(PERSON_LINKS) private readonly persons?: PersonLinks,
  ) {}

  /** Most recently seen first, keyset-paginated by (last_seen_at, id). */
  async list(f: IdentityFilter, limit: number, cursor?: string): Promise<{ items: IdentityDto[]; nextCursor: string | null }> {
    const d = this.uow.dialect;
    // Merged identities stay only as aliases for ingestion; the API shows their target.
    const where: string[] = ['i.merged_into_id IS NULL'];
    const params: unknown[] = [];
    const p = (v: unknown) => {
      params.push(v);
      return d.p(params.length);
    };
    if (f.q) {
      const like = `%${f.q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      where.push(`(i.external_id = ${p(f.q)} OR LOWER(i.name) LIKE ${p(like)} ESCAPE '\\')`);
    }
    if (f.externalId) where.push(`i.external_id = ${p(f.externalId)}`);
    if (f.userType) where.push(`i.user_type = ${p(f.userType)}`);
    if (cursor) {
      const after = decodeCursor<{ t: number; id: string }>(cursor, { t: 'number', id: 'string' });
      where.push(`(i.last_seen_at, i.id) < (${p(after.t)}, ${p(after.id)})`);
    }
    const rows: Row[] = await this.uow.dataSource.query(
      `SELECT i.* FROM identities i WHERE ${where.join(' AND ')}
       ORDER BY i.last_seen_at DESC, i.id DESC LIMIT ${p(limit + 1)}`,
      params,
    );
    const items = rows.slice(0, limit).map(toIdentityDto);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit ? encodeCursor({ t: last.lastSeenAt, id: last.id }) : null };
  }

  async get(id: string): Promise<IdentityDetailDto> {
    const d = this.uow.dialect;
    const ds = this.uow.dataSource;
    const rows: Row[] = await ds.query(`SELECT * FROM identities WHERE id = ${d.p(1)}`, [id]);
    if (rows.length === 0) throw identityNotFound();
    if (rows[0].merged_into_id) throw identityMerged(rows[0].merged_into_id as string);
    const faces: Row[] = await ds.query(
      `SELECT id, identity_id, source, source_record_id, image_sha256, is_current, captured_at, created_at,
              CASE WHEN feature IS NULL THEN 0 ELSE 1 END AS has_feature
       FROM faces WHERE identity_id = ${d.p(1)} ORDER BY captured_at DESC, source_record_id DESC`,
      [id],
    );
    const records = await this.records.latestOfIdentity(id, 10);
    const recordCount = await this.records.countOfIdentity(id);
    const faceDtos = faces.map(toFaceDto);
    return {
      ...toIdentityDto(rows[0]),
      personId: (await this.persons?.personOf(id)) ?? null,
      currentFace: faceDtos.find((f) => f.isCurrent) ?? null,
      faceHistory: faceDtos.filter((f) => !f.isCurrent),
      recordCount,
      latestRecords: records.map((r) => RecordSummaryDto.from(r)),
    };
  }

  /** A face's image reference, checked to belong to the identity. */
  async faceImage(identityId: string, faceId: string): Promise<{ sha256: string; contentType: string }> {
    const d = this.uow.dialect;
    const rows: { image_sha256: string | null; content_type: string | null }[] = await this.uow.dataSource.query(
      `SELECT f.image_sha256, s.content_type FROM faces f LEFT JOIN stored_images s ON s.sha256 = f.image_sha256
       WHERE f.id = ${d.p(1)} AND f.identity_id = ${d.p(2)}`,
      [faceId, identityId],
    );
    if (rows.length === 0) throw faceNotFound();
    if (!rows[0].image_sha256) throw faceImageMissing();
    return { sha256: rows[0].image_sha256, contentType: rows[0].content_type ?? 'application/octet-stream' };
  }

  async faceFeature(identityId: string, faceId: string): Promise<number[]> {
    const d = this.uow.dialect;
    const rows: { feature: Buffer | Uint8Array | null }[] = await this.uow.dataSource.query(
      `SELECT feature FROM faces WHERE id = ${d.p(1)} AND identity_id = ${d.p(2)}`,
      [faceId, identityId],
    );
    if (rows.length === 0) throw faceNotFound();
    if (!rows[0].feature) throw faceFeatureMissing();
    return floatsOf(rows[0].feature);
  }
}
