import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { UnitOfWork } from '../database/unit-of-work';
import type { DeviceRecordCounts } from '../devices/devices.types';
import { RecognitionRecord } from './entities/recognition-record.entity';
import { readRecordViews, RecordView, selectRecordView } from './record-rows';

/** What the face library takes from a record, read as the record is now (erasure may have cleared it). */
export interface RecordFaceSource {
  feature: Buffer | null;
  registeredImageSha256: string | null;
  faceImageSha256: string | null;
  identityName: string | null;
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
export class RecordsStore implements DeviceRecordCounts {
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

  async countOfIdentity(identityId: string): Promise<number> {
    return this.uow.dataSource.getRepository(RecognitionRecord).countBy({ identityId });
  }
}
