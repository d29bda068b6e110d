import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { UnitOfWork } from '../database/unit-of-work';
import { RecognitionRecord } from './entities/recognition-record.entity';
import { recordSelect, RecordRow, RecordView, toRecordView } from './record-rows';

/** What the face library takes from a record, read as the record is now (erasure may have cleared it). */
export interface RecordFaceSource {
  feature: Buffer | null;
  registeredImageSha256: string | null;
  faceImageSha256: string | null;
  identityName: string | null;
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

const ALERT_FACT_COLUMNS = {
  id: true,
  identityId: true,
  identityExternalId: true,
  identityName: true,
  userType: true,
  boxId: true,
  mediaDeviceId: true,
  score: true,
  hasDefects: true,
  occurredAt: true,
} as const;

function toAlertFacts(r: RecognitionRecord): RecordAlertFacts {
  return {
    recordId: r.id,
    identityId: r.identityId,
    identityExternalId: r.identityExternalId,
    identityName: r.identityName,
    userType: r.userType,
    boxId: r.boxId,
    mediaDeviceId: r.mediaDeviceId,
    score: r.score,
    hasDefects: Boolean(r.hasDefects),
    occurredAt: r.occurredAt,
  };
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

  /** The record's facts for alert rules, in the caller's transaction; null when the record is gone. */
  async alertFacts(manager: EntityManager, recordId: string): Promise<RecordAlertFacts | null> {
    const r = await manager.getRepository(RecognitionRecord).findOne({ select: ALERT_FACT_COLUMNS, where: { id: recordId } });
    return r ? toAlertFacts(r) : null;
  }

  /**
   * Records in a box event time window, oldest first (by occurred_at, id), as alert rule facts: what an alert rule
   * dry run replays. Uses the (occurred_at, id) index, or the box / media device / user type ones when narrowed.
   */
  async alertCandidates(q: AlertCandidateQuery): Promise<RecordAlertFacts[]> {
    const qb = this.uow.dataSource
      .getRepository(RecognitionRecord)
      .createQueryBuilder('r')
      .select(Object.keys(ALERT_FACT_COLUMNS).map((c) => `r.${c}`))
      .where('r.occurredAt >= :from AND r.occurredAt < :to', { from: q.from, to: q.to });
    if (q.boxIds?.length) qb.andWhere('r.boxId IN (:...boxIds)', { boxIds: q.boxIds });
    if (q.mediaDeviceIds?.length) qb.andWhere('r.mediaDeviceId IN (:...mediaDeviceIds)', { mediaDeviceIds: q.mediaDeviceIds });
    if (q.userTypes?.length) qb.andWhere('r.userType IN (:...userTypes)', { userTypes: q.userTypes });
    const rows = await qb.orderBy('r.occurredAt', 'ASC').addOrderBy('r.id', 'ASC').take(q.limit).getMany();
    return rows.map(toAlertFacts);
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

  async countOfIdentity(identityId: string): Promise<number> {
    return this.uow.dataSource.getRepository(RecognitionRecord).countBy({ identityId });
  }
}
