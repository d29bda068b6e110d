import { Inject, Injectable, Optional } from '@nestjs/common';
import { In } from 'typeorm';
import { decodeCursor, encodeCursor } from '../common/cursor';
import { UnitOfWork } from '../database/unit-of-work';
import { PERSON_LINKS, type PersonLinks } from '../identities/person-links.types';
import { RecognitionRecord } from './entities/recognition-record.entity';
import { IMAGE_ROLES, ImageRole } from './recognition-record.types';
import { recordFeatureMissing, recordImageMissing, recordNotFound } from './record-errors';
import { IMAGE_COLUMN, recordSelect, RecordRow, RecordView, toRecordView } from './record-rows';

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
  box: { id: string; name: string | null; licenseKey: string } | null;
  mediaDevice: { id: string; deviceId: string; name: string | null; type: string | null } | null;
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
    @Optional() @Inject(PERSON_LINKS) private readonly persons?: PersonLinks,
  ) {}

  /** Feed facts of those of these ids that are records (other ids, e.g. identities', are skipped). */
  async feedFacts(ids: string[]): Promise<Map<string, RecordFeedFacts>> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return new Map();
    const rows = await this.uow.dataSource.getRepository(RecognitionRecord).find({
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
    const d = this.uow.dialect;
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: (p: string) => string, value: unknown) => {
      params.push(value);
      where.push(sql(d.p(params.length)));
    };
    if (filter.from !== undefined) add((p) => `r.occurred_at >= ${p}`, filter.from);
    if (filter.to !== undefined) add((p) => `r.occurred_at < ${p}`, filter.to);
    if (filter.boxId) add((p) => `r.box_id = ${p}`, filter.boxId);
    if (filter.mediaDeviceId) add((p) => `r.media_device_id = ${p}`, filter.mediaDeviceId);
    if (filter.identityId) add((p) => `r.identity_id = ${p}`, filter.identityId);
    if (filter.personId) {
      // The person's identities, from the persons module; an unknown person has none, and so no records.
      const ids = (await this.persons?.identityIdsOf(filter.personId)) ?? [];
      if (ids.length === 0) return [];
      for (const id of ids) params.push(id);
      where.push(`r.identity_id IN (${d.params(params.length - ids.length + 1, ids.length)})`);
    }
    if (filter.identityExternalId !== undefined) add((p) => `r.identity_external_id = ${p}`, filter.identityExternalId);
    if (filter.userType) add((p) => `r.user_type = ${p}`, filter.userType);
    if (filter.postAction) add((p) => `r.post_action = ${p}`, filter.postAction);
    if (filter.minScore !== undefined) add((p) => `r.score >= ${p}`, filter.minScore);
    if (filter.hasDefects !== undefined) add((p) => `r.has_defects = ${p}`, d.boolParam(filter.hasDefects));
    if (after) {
      params.push(after.t, after.id);
      // Row-value comparison: one index range scan on (occurred_at, id) on both databases.
      where.push(`(r.occurred_at, r.id) < (${d.p(params.length - 1)}, ${d.p(params.length)})`);
    }
    params.push(limit);
    const rows: RecordRow[] = await this.uow.dataSource.query(
      `SELECT ${recordSelect('r')} FROM recognition_records r
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY r.occurred_at DESC, r.id DESC
       LIMIT ${d.p(params.length)}`,
      params,
    );
    return rows.map(toRecordView);
  }

  async get(id: string): Promise<RecordDetailView> {
    const d = this.uow.dialect;
    const rows: RecordRow[] = await this.uow.dataSource.query(
      `SELECT ${recordSelect('r')}, b.name AS box_name, b.license_key AS box_license_key,
              m.device_id AS m_device_id, m.name AS m_name, m.type AS m_type
       FROM recognition_records r
       LEFT JOIN boxes b ON b.id = r.box_id
       LEFT JOIN media_devices m ON m.id = r.media_device_id
       WHERE r.id = ${d.p(1)}`,
      [id],
    );
    if (rows.length === 0) throw recordNotFound();
    const row = rows[0];
    const view = toRecordView(row);
    const shas = Object.values(view.images);
    const meta: { sha256: string; content_type: string; byte_size: number | string }[] = shas.length
      ? await this.uow.dataSource.query(
          `SELECT sha256, content_type, byte_size FROM stored_images WHERE sha256 IN (${d.params(1, shas.length)})`,
          shas,
        )
      : [];
    const imageMeta: RecordDetailView['imageMeta'] = {};
    for (const role of IMAGE_ROLES) {
      const m = meta.find((x) => x.sha256 === view.images[role]);
      if (m) imageMeta[role] = { contentType: m.content_type, byteSize: Number(m.byte_size) };
    }
    return {
      ...view,
      box: row.box_license_key
        ? { id: view.boxId, name: (row.box_name as string | null) ?? null, licenseKey: row.box_license_key as string }
        : null,
      mediaDevice: row.m_device_id
        ? {
            id: view.mediaDeviceId,
            deviceId: row.m_device_id as string,
            name: (row.m_name as string | null) ?? null,
            type: (row.m_type as string | null) ?? null,
          }
        : null,
      imageMeta,
    };
  }

  /** The stored image of one role, or 404 naming what is missing. */
  async imageRef(id: string, role: ImageRole): Promise<ImageRef> {
    const d = this.uow.dialect;
    const rows: { sha256: string | null; content_type: string | null }[] = await this.uow.dataSource.query(
      `SELECT r.${IMAGE_COLUMN[role]} AS sha256, s.content_type
       FROM recognition_records r LEFT JOIN stored_images s ON s.sha256 = r.${IMAGE_COLUMN[role]}
       WHERE r.id = ${d.p(1)}`,
      [id],
    );
    if (rows.length === 0) throw recordNotFound();
    if (!rows[0].sha256) throw recordImageMissing(role);
    return { sha256: rows[0].sha256, contentType: rows[0].content_type ?? 'application/octet-stream' };
  }

  /** The feature vector as float32 values, or 404. */
  async feature(id: string): Promise<number[]> {
    const d = this.uow.dialect;
    const rows: { feature: Buffer | Uint8Array | null }[] = await this.uow.dataSource.query(
      `SELECT feature FROM recognition_records WHERE id = ${d.p(1)}`,
      [id],
    );
    if (rows.length === 0) throw recordNotFound();
    if (!rows[0].feature) throw recordFeatureMissing();
    return floatsOf(rows[0].feature);
  }
}

export function floatsOf(bytes: Buffer | Uint8Array): number[] {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
  const out: number[] = [];
  for (let i = 0; i + 4 <= buf.length; i += 4) out.push(buf.readFloatLE(i));
  return out;
}
