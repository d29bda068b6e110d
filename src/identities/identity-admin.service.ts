import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Face } from './entities/face.entity';
import { Identity } from './entities/identity.entity';
import { FaceLibraryService } from './face-library.service';
import { AuditService } from '../audit/audit.service';
import { UnitOfWork } from '../database/unit-of-work';
import { IdentityMergedEvent } from '../events/domain-events';
import { OutboxRelay } from '../events/outbox-relay.service';
import { OutboxService } from '../events/outbox.service';
import { RecordsStore } from '../recognition-records/records-store.service';
import { identityMerged, identityNotFound, mergeIntoSelf } from './identity-errors';

export interface IdentityChange {
  name?: string | null;
  userType?: string;
}

/** Operator changes to identities: rename / reclassify, and merging duplicates. Audited. */
@Injectable()
export class IdentityAdminService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly outbox: OutboxService,
    private readonly relay: OutboxRelay,
    private readonly audit: AuditService,
    private readonly faceLibrary: FaceLibraryService,
    private readonly records: RecordsStore,
  ) {}

  async update(id: string, change: IdentityChange, actor: string): Promise<void> {
    await this.uow.run(async (m) => {
      const before = await this.lock(m, id, 'id');
      if (change.name === undefined && change.userType === undefined) return;
      const now = Date.now();
      await m.getRepository(Identity).update(id, {
        ...(change.name !== undefined && { name: change.name }),
        ...(change.userType !== undefined && { userType: change.userType }),
        updatedAt: now,
        editedAt: now,
      });
      await this.audit.recordIn(m, {
        actor,
        action: 'identity.updated',
        subjectType: 'identity',
        subjectId: id,
        details: {
          ...(change.name !== undefined && { name: { from: before.name, to: change.name } }),
          ...(change.userType !== undefined && { userType: { from: before.userType, to: change.userType } }),
        },
      });
    });
  }

  /**
   * Moves the source's records and faces to the target and retires the source, in one transaction
   * with the audit entry and the identity.merged event. The target's current face is re-elected by
   * the face library's rule (newest capture time, ties by source record id).
   */
  async merge(sourceId: string, targetId: string, actor: string): Promise<void> {
    if (sourceId === targetId) throw mergeIntoSelf();
    await this.uow.run(async (m) => {
      // Lock both in id order so two opposite merges cannot deadlock.
      const [a, b] = [sourceId, targetId].sort();
      const locked = {
        [a]: await this.lock(m, a, a === sourceId ? 'id' : 'targetId'),
        [b]: await this.lock(m, b, b === sourceId ? 'id' : 'targetId'),
      };
      const source = locked[sourceId];
      const target = locked[targetId];
      const now = Date.now();

      const movedRecords = await this.records.reassignIdentity(m, sourceId, targetId);
      const faces = m.getRepository(Face);
      // The target may already hold a face from the same source record; keep the target's.
      const targetSources = m
        .createQueryBuilder()
        .subQuery()
        .select('t.source_record_id')
        .from(Face, 't')
        .where('t.identity_id = :targetId');
      await faces
        .createQueryBuilder()
        .delete()
        .where('identity_id = :sourceId', { sourceId })
        .andWhere(`source_record_id IN ${targetSources.getQuery()}`, { targetId })
        .execute();
      // At most one current face per identity (unique index): clear the source's before moving.
      await faces.update({ identityId: sourceId, isCurrent: true }, { isCurrent: false });
      const movedFaces = (await faces.update({ identityId: sourceId }, { identityId: targetId })).affected ?? 0;
      await this.faceLibrary.electCurrentFace(m, targetId);

      const identities = m.getRepository(Identity);
      await identities.update(targetId, {
        firstSeenAt: Math.min(source.firstSeenAt, target.firstSeenAt),
        lastSeenAt: Math.max(source.lastSeenAt, target.lastSeenAt),
        updatedAt: now,
      });
      // The source leaves the API but stays as an alias, so the boxes' later pushes naming its identity_id
      // land on the target instead of re-creating it; aliases of the source follow it.
      await identities
        .createQueryBuilder()
        .update()
        .set({ mergedIntoId: targetId, updatedAt: now })
        .where('id = :sourceId OR merged_into_id = :sourceId', { sourceId })
        .execute();

      const merge = {
        sourceId,
        sourceExternalId: source.externalId,
        targetId,
        targetExternalId: target.externalId,
        movedRecords,
        movedFaces,
        mergedBy: actor,
      };
      await this.outbox.enqueue(m, targetId, [new IdentityMergedEvent(merge)], now);
      await this.audit.recordIn(m, { actor, action: 'identity.merged', subjectType: 'identity', subjectId: targetId, details: merge });
    });
    this.relay.kick();
  }

  /** The identity, row-locked until commit on PostgreSQL (SQLite has one writer at a time anyway). */
  private async lock(m: EntityManager, id: string, field: string): Promise<Identity> {
    const identity = await m.getRepository(Identity).findOne({
      where: { id },
      ...(this.uow.dialect.kind === 'postgres' && { lock: { mode: 'pessimistic_write' as const } }),
    });
    if (!identity) throw identityNotFound(field);
    if (identity.mergedIntoId) throw identityMerged(identity.mergedIntoId, field);
    return identity;
  }
}
