import { Injectable } from '@nestjs/common';
import { EntityManager, In, SelectQueryBuilder } from 'typeorm';
import { chunks } from '../common/chunks';
import { rowBool } from '../database/row-values';
import { UnitOfWork } from '../database/unit-of-work';
import type { DeviceRecordCounts } from '../devices/devices.types';
import { RecognitionRecord } from './entities/recognition-record.entity';
import { IMAGE_PROPERTY, readRecordViews, RecordCore, RecordView, selectRecordView } from './record-rows';

export type { RecordView } from './record-rows';

/** What the face library takes from a record, read as the record is now (erasure may have cleared it). */
export interface RecordFaceSource {
  feature: Buffer | null;
  registeredImageSha256: string | null;
  faceImageSha256: string | null;
  identityName: string | null;
}

/**
 * The record's image references (entity properties), one per image role, from IMAGE_PROPERTY (record-rows.ts): what
 * retention and erasure read, clear and check for references.
 */
export const RECORD_IMAGE_FIELDS = Object.values(IMAGE_PROPERTY);
/** Erasure clears these besides the images: the face's feature vector and landmarks. */
const BIOMETRIC_FIELDS = [...RECORD_IMAGE_FIELDS, 'feature', 'landmarks'] as const;

/** Records a retention or erasure batch changed, and the images they referenced before (release candidates). */
export interface RecordsChanged {
  ids: string[];
  imageSha256s: string[];
}

/** A record to store, as ingestion built it (JSON columns already serialised). */
export interface NewRecordRow extends RecordCore {
  /** The box's timestamp exactly as sent (the dedup key's time; occurredAt may be the receive time instead). */
  boxTimestamp: number;
  attributes: string | null;
  landmarks: string | null;
  faceBox: string | null;
  feature: Buffer | null;
  regImageSha256: string | null;
  spotImageSha256: string | null;
  irImageSha256: string | null;
  faceImageSha256: string | null;
  defects: string;
  extra: string | null;
}

/** Columns of recognition_records in NewRecordRow order, with the PostgreSQL array type unnest() takes for each. */
const INSERT_COLUMNS: [keyof NewRecordRow, string, string][] = [
  ['id', 'id', 'text'],
  ['boxId', 'box_id', 'text'],
  ['mediaDeviceId', 'media_device_id', 'text'],
  ['deviceExternalId', 'device_external_id', 'text'],
  ['identityId', 'identity_id', 'text'],
  ['identityExternalId', 'identity_external_id', 'text'],
  ['identityName', 'identity_name', 'text'],
  ['userType', 'user_type', 'text'],
  ['occurredAt', 'occurred_at', 'int8'],
  ['boxTimestamp', 'box_timestamp', 'int8'],
  ['enteredAt', 'entered_at', 'int8'],
  ['leftAt', 'left_at', 'int8'],
  ['scoreRaw', 'score_raw', 'float8'],
  ['score', 'score', 'float8'],
  ['postAction', 'post_action', 'text'],
  ['apiVersion', 'api_version', 'text'],
  ['attributes', 'attributes', 'text'],
  ['landmarks', 'landmarks', 'text'],
  ['faceBox', 'face_box', 'text'],
  ['feature', 'feature', 'bytea'],
  ['regImageSha256', 'reg_image_sha256', 'text'],
  ['spotImageSha256', 'spot_image_sha256', 'text'],
  ['irImageSha256', 'ir_image_sha256', 'text'],
  ['faceImageSha256', 'face_image_sha256', 'text'],
  ['defects', 'defects', 'text'],
  ['hasDefects', 'has_defects', 'bool'],
  ['extra', 'extra', 'text'],
  ['sourceAddress', 'source_address', 'text'],
  ['receivedAt', 'received_at', 'int8'],
];
const COLUMN_LIST = INSERT_COLUMNS.map(([, column]) => column).join(', ');

/** A record's feature with the facts face search filters on (feature null: erased since it was stored). */
export interface RecordFaceVector {
  recordId: string;
  feature: Buffer | null;
  occurredAt: number;
  boxId: string;
  mediaDeviceId: string;
  userType: string | null;
  identityId: string | null;
}

const FACE_VECTOR_COLUMNS = 'id, feature, occurred_at, box_id, media_device_id, user_type, identity_id';

function toFaceVector(r: Record<string, unknown>): RecordFaceVector {
  const f = r.feature as Buffer | Uint8Array | null;
  return {
    recordId: r.id as string,
    feature: f === null ? null : Buffer.from(f.buffer, f.byteOffset, f.byteLength),
    occurredAt: Number(r.occurred_at),
    boxId: r.box_id as string,
    mediaDeviceId: r.media_device_id as string,
    userType: (r.user_type as string | null) ?? null,
    identityId: (r.identity_id as string | null) ?? null,
  };
}

/** What alert rules match on and an alert copies from its record. */
export interface RecordAlertFacts {
  recordId: string;
  identityId: string | null;
  identityExternalId: string;
  identityName: string | null;
  userType: string | null;
  boxId: string;
  mediaDeviceId: string;
  score: number | null;
  hasDefects: boolean;
  occurredAt: number;
}

/** Which records an alert rule dry run reads: a box event time window, narrowed by what the rule pins down. */
export interface AlertCandidateQuery {
  /** Box event time, epoch ms: from inclusive, to exclusive. */
  from: number;
  to: number;
  boxIds?: string[];
  mediaDeviceIds?: string[];
  userTypes?: string[];
  /** Most records answered (oldest first). */
  limit: number;
}

/** The columns of a record that alert rules match on (one list for a single record and for a dry run's window). */
const ALERT_FACT_COLUMNS = [
  'id',
  'identity_id',
  'identity_external_id',
  'identity_name',
  'user_type',
  'box_id',
  'media_device_id',
  'score',
  'has_defects',
  'occurred_at',
] as const;

/** faceSource()'s columns as the drivers return them (the feature as a Buffer from both). */
interface FaceSourceRow {
  feature: Uint8Array | null;
  reg_image_sha256: string | null;
  face_image_sha256: string | null;
  identity_name: string | null;
}

/** ALERT_FACT_COLUMNS as the drivers return them (PostgreSQL: int8 as a string; SQLite: booleans as 0/1). */
interface AlertFactRow {
  id: string;
  identity_id: string | null;
  identity_external_id: string;
  identity_name: string | null;
  user_type: string | null;
  box_id: string;
  media_device_id: string;
  score: number | string | null;
  has_defects: boolean | number;
  occurred_at: number | string;
}

function toAlertFacts(r: AlertFactRow): RecordAlertFacts {
  return {
    recordId: r.id,
    identityId: r.identity_id,
    identityExternalId: r.identity_external_id,
    identityName: r.identity_name,
    userType: r.user_type,
    boxId: r.box_id,
    mediaDeviceId: r.media_device_id,
    score: r.score === null ? null : Number(r.score),
    hasDefects: rowBool(r.has_defects),
    occurredAt: Number(r.occurred_at),
  };
}

/**
 * The recognition-records module's intent methods for other modules (identities, …), which never query
 * `recognition_records` themselves. Provided by RecordsStoreModule, which depends on nothing but the
 * database, so modules that RecognitionRecordsModule itself imports (identities) can use it.
 */
@Injectable()
export class RecordsStore implements DeviceRecordCounts {
  constructor(private readonly uow: UnitOfWork) {}

  /**
   * Inserts a batch of records in the caller's transaction, skipping those whose event is already stored (the
   * unique key box, media device id, identity, box timestamp; also a duplicate within the batch: the first one
   * stays); returns the ids inserted. One statement: on PostgreSQL `INSERT … SELECT FROM unnest(…)`, one array
   * parameter per column (a fixed statement text, whatever the batch size); on SQLite a multi-row VALUES list.
   * Rows go in key order, so that concurrent batches wait on each other's keys in the same order.
   */
  async insertBatch(manager: EntityManager, records: NewRecordRow[]): Promise<Set<string>> {
    const d = this.uow.dialect;
    const sorted = [...records].sort(compareEventKey);
    const conflict = 'ON CONFLICT (box_id, device_external_id, identity_external_id, box_timestamp) DO NOTHING RETURNING id';
    const inserted = new Set<string>();
    if (sorted.length === 0) return inserted;
    if (d.kind === 'postgres') {
      const arrays = INSERT_COLUMNS.map(([key]) => sorted.map((r) => r[key]));
      const rows: { id: string }[] = await manager.query(
        `INSERT INTO recognition_records (${COLUMN_LIST})
         SELECT * FROM unnest(${INSERT_COLUMNS.map(([, , type], i) => `$${i + 1}::${type}[]`).join(', ')}) ${conflict}`,
        arrays,
      );
      for (const r of rows) inserted.add(r.id);
      return inserted;
    }
    const values = sorted.map((r) => INSERT_COLUMNS.map(([key]) => (key === 'hasDefects' ? (r.hasDefects ? 1 : 0) : r[key])));
    for (const chunk of d.valuesChunks(values, INSERT_COLUMNS.length)) {
      const rows: { id: string }[] = await manager.query(
        `INSERT INTO recognition_records (${COLUMN_LIST}) VALUES ${chunk.sql} ${conflict}`,
        chunk.params,
      );
      for (const r of rows) inserted.add(r.id);
    }
    return inserted;
  }

  /** Moves every record of one identity to another (merge), in the caller's transaction; returns how many moved. */
  async reassignIdentity(manager: EntityManager, fromIdentityId: string, toIdentityId: string): Promise<number> {
    const result = await manager
      .getRepository(RecognitionRecord)
      .createQueryBuilder()
      .update()
      .set({ identityId: toIdentityId })
      .where('identity_id = :from', { from: fromIdentityId })
      .execute();
    return result.affected ?? 0;
  }

  /** The record's face image, feature and name in the caller's transaction; null when the record is gone. */
  async faceSource(manager: EntityManager, recordId: string): Promise<RecordFaceSource | null> {
    // Read for every 1001/1002 record (face library) and every first face (persons), so in plain SQL: findOne()
    // cost about twice the query itself.
    const rows: FaceSourceRow[] = await manager.query(
      `SELECT feature, reg_image_sha256, face_image_sha256, identity_name FROM recognition_records WHERE id = ${this.uow.dialect.p(1)}`,
      [recordId],
    );
    const r = rows[0];
    if (!r) return null;
    return {
      feature: r.feature === null ? null : Buffer.from(r.feature),
      registeredImageSha256: r.reg_image_sha256,
      faceImageSha256: r.face_image_sha256,
      identityName: r.identity_name,
    };
  }

  /** The record's facts for alert rules, in the caller's transaction; null when the record is gone. */
  async alertFacts(manager: EntityManager, recordId: string): Promise<RecordAlertFacts | null> {
    // Read for every stored record (alert rules), so in plain SQL: findOne() cost more CPU than the query itself.
    const rows: AlertFactRow[] = await manager.query(
      `SELECT ${ALERT_FACT_COLUMNS.join(', ')} FROM recognition_records WHERE id = ${this.uow.dialect.p(1)}`,
      [recordId],
    );
    return rows[0] ? toAlertFacts(rows[0]) : null;
  }

  /** alertFacts() of several records in one read (by record id; records gone are absent). */
  async alertFactsOf(manager: EntityManager, recordIds: string[]): Promise<Map<string, RecordAlertFacts>> {
    const found = new Map<string, RecordAlertFacts>();
    for (const ids of chunks([...new Set(recordIds)])) {
      const rows: AlertFactRow[] = await manager.query(
        `SELECT ${ALERT_FACT_COLUMNS.join(', ')} FROM recognition_records WHERE id IN (${this.uow.dialect.params(1, ids.length)})`,
        ids,
      );
      for (const r of rows) found.set(r.id, toAlertFacts(r));
    }
    return found;
  }

  /**
   * Records in a box event time window, oldest first (by occurred_at, id), as alert rule facts: what an alert rule
   * dry run replays. Uses the (occurred_at, id) index, or the box / media device / user type ones when narrowed.
   */
  async alertCandidates(q: AlertCandidateQuery): Promise<RecordAlertFacts[]> {
    const qb = this.uow.dataSource.getRepository(RecognitionRecord).createQueryBuilder('r').select([]);
    // Each column under its own name, so the rows are those alertFacts() reads and one mapping serves both.
    for (const c of ALERT_FACT_COLUMNS) qb.addSelect(`r.${c}`, c);
    qb.where('r.occurredAt >= :from AND r.occurredAt < :to', { from: q.from, to: q.to });
    if (q.boxIds?.length) qb.andWhere('r.boxId IN (:...boxIds)', { boxIds: q.boxIds });
    if (q.mediaDeviceIds?.length) qb.andWhere('r.mediaDeviceId IN (:...mediaDeviceIds)', { mediaDeviceIds: q.mediaDeviceIds });
    if (q.userTypes?.length) qb.andWhere('r.userType IN (:...userTypes)', { userTypes: q.userTypes });
    const rows = await qb.orderBy('r.occurredAt', 'ASC').addOrderBy('r.id', 'ASC').limit(q.limit).getRawMany<AlertFactRow>();
    return rows.map(toAlertFacts);
  }

  /** The identity's newest records, newest first. */
  async latestOfIdentity(identityId: string, limit: number): Promise<RecordView[]> {
    const qb = selectRecordView(this.uow.dataSource.getRepository(RecognitionRecord).createQueryBuilder('r'))
      .where('r.identityId = :identityId', { identityId })
      .orderBy('r.occurredAt', 'DESC')
      .addOrderBy('r.id', 'DESC')
      .limit(limit);
    return readRecordViews(qb);
  }

  /** How many records each of these boxes (by box_id) or media devices (by media_device_id) has; absent means 0. */
  async countsBy(column: 'boxId' | 'mediaDeviceId', ids: string[]): Promise<Map<string, number>> {
    if (ids.length === 0) return new Map();
    const rows = await this.uow.dataSource
      .getRepository(RecognitionRecord)
      .createQueryBuilder('r')
      .select(`r.${column}`, 'id')
      .addSelect('COUNT(*)', 'n')
      .where(`r.${column} IN (:...ids)`, { ids })
      .groupBy(`r.${column}`)
      .getRawMany<{ id: string; n: number | string }>();
    return new Map(rows.map((r) => [r.id, Number(r.n)]));
  }

  /** Box event time of the newest stored record of each of these media devices (absent: none stored). */
  async newestAtMediaDevices(ids: string[]): Promise<Map<string, number>> {
    if (ids.length === 0) return new Map();
    const rows = await this.uow.dataSource
      .getRepository(RecognitionRecord)
      .createQueryBuilder('r')
      .select('r.mediaDeviceId', 'id')
      .addSelect('MAX(r.occurredAt)', 'newest')
      .where('r.mediaDeviceId IN (:...ids)', { ids })
      .groupBy('r.mediaDeviceId')
      .getRawMany<{ id: string; newest: number | string }>();
    return new Map(rows.map((r) => [r.id, Number(r.newest)]));
  }

  /** Records with a feature, by id after `afterId` (keyset), for building a face index; feature included. */
  async faceVectorsAfter(afterId: string | null, limit: number): Promise<RecordFaceVector[]> {
    const d = this.uow.dialect;
    const rows: Record<string, unknown>[] = await this.uow.dataSource.query(
      afterId === null
        ? `SELECT ${FACE_VECTOR_COLUMNS} FROM recognition_records WHERE feature IS NOT NULL ORDER BY id LIMIT ${d.p(1)}`
        : `SELECT ${FACE_VECTOR_COLUMNS} FROM recognition_records WHERE feature IS NOT NULL AND id > ${d.p(1)} ORDER BY id LIMIT ${d.p(2)}`,
      afterId === null ? [limit] : [afterId, limit],
    );
    return rows.map(toFaceVector);
  }

  /** These records' features and facts as stored now; a record that is gone is absent, an erased feature is null. */
  async faceVectorsOf(recordIds: string[]): Promise<RecordFaceVector[]> {
    if (recordIds.length === 0) return [];
    const rows: Record<string, unknown>[] = await this.uow.dataSource.query(
      `SELECT ${FACE_VECTOR_COLUMNS} FROM recognition_records WHERE id IN (${this.uow.dialect.params(1, recordIds.length)})`,
      recordIds,
    );
    return rows.map(toFaceVector);
  }

  /** Which of these records still exist with a feature (face-index reconciliation; reads no feature). */
  async withFeature(recordIds: string[]): Promise<Set<string>> {
    if (recordIds.length === 0) return new Set();
    const rows: { id: string }[] = await this.uow.dataSource.query(
      `SELECT id FROM recognition_records WHERE feature IS NOT NULL AND id IN (${this.uow.dialect.params(1, recordIds.length)})`,
      recordIds,
    );
    return new Set(rows.map((r) => r.id));
  }

  /** These records as the consumer API shows them (no feature), in no particular order. */
  async viewsOf(recordIds: string[]): Promise<RecordView[]> {
    if (recordIds.length === 0) return [];
    const views: RecordView[] = [];
    for (const ids of chunks(recordIds)) {
      const qb = selectRecordView(this.uow.dataSource.getRepository(RecognitionRecord).createQueryBuilder('r'));
      views.push(...(await readRecordViews(qb.where('r.id IN (:...ids)', { ids }))));
    }
    return views;
  }

  async countOfIdentity(identityId: string): Promise<number> {
    return this.uow.dataSource.getRepository(RecognitionRecord).countBy({ identityId });
  }

  /**
   * Retention: deletes up to `limit` of the oldest records whose event time is before `cutoff`, in the caller's
   * transaction (their alerts cascade). The caller removes their outbox rows in the same transaction.
   */
  async deleteOlderThan(manager: EntityManager, cutoff: number, limit: number): Promise<RecordsChanged> {
    const rows = await this.imagesOf(manager, (qb) => qb.where('r.occurredAt < :cutoff', { cutoff }).orderBy('r.occurredAt').limit(limit));
    if (rows.ids.length > 0) await manager.getRepository(RecognitionRecord).delete({ id: In(rows.ids) });
    return rows;
  }

  /** Retention: clears the image references of up to `limit` of the oldest records before `cutoff` that have any. */
  async stripImagesOlderThan(manager: EntityManager, cutoff: number, limit: number): Promise<RecordsChanged> {
    const rows = await this.imagesOf(manager, (qb) =>
      qb.where('r.occurredAt < :cutoff', { cutoff }).andWhere(anyNotNull(RECORD_IMAGE_FIELDS)).orderBy('r.occurredAt').limit(limit),
    );
    await this.clear(manager, rows.ids, RECORD_IMAGE_FIELDS);
    return rows;
  }

  /**
   * Erasure: clears images, feature vector and landmarks of up to `limit` records of the identity that still hold
   * any, in the caller's transaction. Repeat until it returns fewer than `limit`.
   */
  async eraseBiometricsOfIdentity(manager: EntityManager, identityId: string, limit: number): Promise<RecordsChanged> {
    const rows = await this.imagesOf(manager, (qb) =>
      qb.where('r.identityId = :identityId', { identityId }).andWhere(anyNotNull(BIOMETRIC_FIELDS)).orderBy('r.occurredAt').limit(limit),
    );
    await this.clear(manager, rows.ids, BIOMETRIC_FIELDS);
    return rows;
  }

  /** Ids of the identity's records after `after` in id order, `limit` at a time (paging through all of them). */
  async idsOfIdentity(manager: EntityManager, identityId: string, after: string, limit: number): Promise<string[]> {
    const rows = await manager
      .getRepository(RecognitionRecord)
      .createQueryBuilder('r')
      .select('r.id', 'id')
      .where('r.identityId = :identityId AND r.id > :after', { identityId, after })
      .orderBy('r.id')
      .limit(limit)
      .getRawMany<{ id: string }>();
    return rows.map((r) => r.id);
  }

  /** Which of these records belong to the identity. */
  async ofIdentity(manager: EntityManager, identityId: string, recordIds: string[]): Promise<string[]> {
    const out: string[] = [];
    for (const ids of chunks(recordIds)) {
      const rows = await manager.getRepository(RecognitionRecord).find({ select: { id: true }, where: { identityId, id: In(ids) } });
      out.push(...rows.map((r) => r.id));
    }
    return out;
  }

  /** Which of these images any record references (image release decides on the rest), in the caller's transaction. */
  async referencedImages(manager: EntityManager, sha256s: string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (const shas of chunks(sha256s)) {
      // One query per column, each answered from that column's index.
      for (const field of RECORD_IMAGE_FIELDS) {
        const rows = await manager
          .getRepository(RecognitionRecord)
          .createQueryBuilder('r')
          .select(`r.${field}`, 'sha')
          .distinct()
          .where(`r.${field} IN (:...shas)`, { shas })
          .getRawMany<{ sha: string }>();
        for (const r of rows) found.add(r.sha);
      }
    }
    return found;
  }

  private async imagesOf(
    manager: EntityManager,
    query: (qb: SelectQueryBuilder<RecognitionRecord>) => SelectQueryBuilder<RecognitionRecord>,
  ): Promise<RecordsChanged> {
    const rows = await query(
      manager
        .getRepository(RecognitionRecord)
        .createQueryBuilder('r')
        .select(['r.id', ...RECORD_IMAGE_FIELDS.map((f) => `r.${f}`)]),
    ).getMany();
    return {
      ids: rows.map((r) => r.id),
      imageSha256s: rows.flatMap((r) => RECORD_IMAGE_FIELDS.map((f) => r[f])).filter((s): s is string => s !== null),
    };
  }

  private async clear(manager: EntityManager, ids: string[], fields: readonly (keyof RecognitionRecord)[]): Promise<void> {
    if (ids.length === 0) return;
    await manager.getRepository(RecognitionRecord).update({ id: In(ids) }, Object.fromEntries(fields.map((f) => [f, null])));
  }
}

/** `(r.a IS NOT NULL OR r.b IS NOT NULL …)` over entity properties. */
function anyNotNull(fields: readonly string[]): string {
  return `(${fields.map((f) => `r.${f} IS NOT NULL`).join(' OR ')})`;
}

function compareEventKey(a: NewRecordRow, b: NewRecordRow): number {
  const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  return (
    cmp(a.boxId, b.boxId) ||
    cmp(a.deviceExternalId, b.deviceExternalId) ||
    cmp(a.identityExternalId, b.identityExternalId) ||
    a.boxTimestamp - b.boxTimestamp
  );
}
