import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { UnitOfWork } from '../database/unit-of-work';
import { RecognitionRecord } from './entities/recognition-record.entity';
import { recordSelect, RecordRow, RecordView, toRecordView } from './record-rows';

export type { RecordView } from './record-rows';

/** What the face library takes from a record, read as the record is now (erasure may have cleared it). */
export interface RecordFaceSource {
  feature: Buffer | null;
  registeredImageSha256: string | null;
  faceImageSha256: string | null;
  identityName: string | null;
}

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

/** What an alert copies from its record. */
export interface RecordAlertFacts {
  recordId: string;
  identityId: string | null;
  identityExternalId: string;
  identityName: string | null;
  boxId: string;
  mediaDeviceId: string;
  score: number | null;
  occurredAt: number;
}

/**
 * The recognition-records module's intent methods for other modules (identities, …), which never query
 * `recognition_records` themselves. Provided by RecordsStoreModule, which depends on nothing but the
 * database, so modules that RecognitionRecordsModule itself imports (identities) can use it.
 */
@Injectable()
export class RecordsStore {
  constructor(private readonly uow: UnitOfWork) {}

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
    const r = await manager.getRepository(RecognitionRecord).findOne({
      select: { id: true, feature: true, regImageSha256: true, faceImageSha256: true, identityName: true },
      where: { id: recordId },
    });
    if (!r) return null;
    return {
      feature: r.feature === null ? null : Buffer.from(r.feature),
      registeredImageSha256: r.regImageSha256,
      faceImageSha256: r.faceImageSha256,
      identityName: r.identityName,
    };
  }

  /** The record's facts for a watch-list alert, in the caller's transaction; null when the record is gone. */
  async alertFacts(manager: EntityManager, recordId: string): Promise<RecordAlertFacts | null> {
    const r = await manager.getRepository(RecognitionRecord).findOne({
      select: {
        id: true,
        identityId: true,
        identityExternalId: true,
        identityName: true,
        boxId: true,
        mediaDeviceId: true,
        score: true,
        occurredAt: true,
      },
      where: { id: recordId },
    });
    if (!r) return null;
    const { id, identityId, identityExternalId, identityName, boxId, mediaDeviceId, score, occurredAt } = r;
    return { recordId: id, identityId, identityExternalId, identityName, boxId, mediaDeviceId, score, occurredAt };
  }

  /** The identity's newest records, newest first. */
  async latestOfIdentity(identityId: string, limit: number): Promise<RecordView[]> {
    const d = this.uow.dialect;
    const rows: RecordRow[] = await this.uow.dataSource.query(
      `SELECT ${recordSelect('r')} FROM recognition_records r WHERE r.identity_id = ${d.p(1)}
       ORDER BY r.occurred_at DESC, r.id DESC LIMIT ${d.p(2)}`,
      [identityId, limit],
    );
    return rows.map(toRecordView);
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
    const rows: RecordRow[] = await this.uow.dataSource.query(
      `SELECT ${recordSelect('r')} FROM recognition_records r WHERE r.id IN (${this.uow.dialect.params(1, recordIds.length)})`,
      recordIds,
    );
    return rows.map(toRecordView);
  }

  async countOfIdentity(identityId: string): Promise<number> {
    return this.uow.dataSource.getRepository(RecognitionRecord).countBy({ identityId });
  }
}
