import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { FaceLibraryService } from './face-library.service';
import { AuditService } from '../audit/audit.service';
import { UnitOfWork } from '../database/unit-of-work';
import { IdentityMergedEvent } from '../events/domain-events';
import { OutboxRelay } from '../events/outbox-relay.service';
import { OutboxService } from '../events/outbox.service';
import { RecordsStore } from '../recognition-records/records-store.service';
import { identityMerged, identityNotFound, mergeIntoSelf } from './identity-errors';

type Row = Record<string, unknown>;

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
    const d = this.uow.dialect;
    await this.uow.run(async (m) => {
      const before = await this.lock(m, id, 'id');
      const sets: string[] = [];
      const params: unknown[] = [];
      if (change.name !== undefined) {
        params.push(change.name);
        sets.push(`name = ${d.p(params.length)}`);
      }
      if (change.userType !== undefined) {
        params.push(change.userType);
        sets.push(`user_type = ${d.p(params.length)}`);
      }
      if (sets.length === 0) return;
      const now = Date.now();
      params.push(now, now, id);
      await m.query(
        `UPDATE identities SET ${sets.join(', ')}, updated_at = ${d.p(params.length - 2)}, edited_at = ${d.p(params.length - 1)}
         WHERE id = ${d.p(params.length)}`,
        params,
      );
      await this.audit.recordIn(m, {
        actor,
        action: 'identity.updated',
        subjectType: 'identity',
        subjectId: id,
        details: {
          ...(change.name !== undefined && { name: { from: before.name ?? null, to: change.name } }),
          ...(change.userType !== undefined && { userType: { from: before.user_type ?? null, to: change.userType } }),
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
    const d = this.uow.dialect;
    const [yes, no] = [d.bool(true), d.bool(false)];
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
      // The target may already hold a face from the same source record; keep the target's.
      await m.query(
        `DELETE FROM faces WHERE identity_id = ${d.p(1)}
           AND source_record_id IN (SELECT source_record_id FROM faces WHERE identity_id = ${d.p(2)})`,
        [sourceId, targetId],
      );
      // At most one current face per identity (unique index): clear the source's before moving.
      await m.query(`UPDATE faces SET is_current = ${no} WHERE identity_id = ${d.p(1)} AND is_current = ${yes}`, [sourceId]);
      const movedFaces = d.returnedRows<{ id: string }>(
        await m.query(`UPDATE faces SET identity_id = ${d.p(1)} WHERE identity_id = ${d.p(2)} RETURNING id`, [targetId, sourceId]),
      ).length;
      await this.faceLibrary.electCurrentFace(m, targetId);

      await m.query(
        `UPDATE identities SET first_seen_at = ${d.p(1)}, last_seen_at = ${d.p(2)}, updated_at = ${d.p(3)} WHERE id = ${d.p(4)}`,
        [
          Math.min(Number(source.first_seen_at), Number(target.first_seen_at)),
          Math.max(Number(source.last_seen_at), Number(target.last_seen_at)),
          now,
          targetId,
        ],
      );
      // The source leaves the API but stays as an alias, so the boxes' later pushes naming its identity_id
      // land on the target instead of re-creating it; aliases of the source follow it.
      await m.query(
        `UPDATE identities SET merged_into_id = ${d.p(1)}, updated_at = ${d.p(2)} WHERE id = ${d.p(3)} OR merged_into_id = ${d.p(4)}`,
        [targetId, now, sourceId, sourceId],
      );

      const merge = {
        sourceId,
        sourceExternalId: source.external_id as string,
        targetId,
        targetExternalId: target.external_id as string,
        movedRecords,
        movedFaces,
        mergedBy: actor,
      };
      await this.outbox.enqueue(m, targetId, [new IdentityMergedEvent(merge)], now);
      await this.audit.recordIn(m, { actor, action: 'identity.merged', subjectType: 'identity', subjectId: targetId, details: merge });
    });
    this.relay.kick();
  }

  private async lock(m: EntityManager, id: string, field: string): Promise<Row> {
    const d = this.uow.dialect;
    const rows: Row[] = await m.query(`SELECT * FROM identities WHERE id = ${d.p(1)} ${d.kind === 'postgres' ? 'FOR UPDATE' : ''}`, [id]);
    if (rows.length === 0) throw identityNotFound(field);
    if (rows[0].merged_into_id) throw identityMerged(rows[0].merged_into_id as string, field);
    return rows[0];
  }
}
