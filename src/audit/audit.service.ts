import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { decodeCursor, encodeCursor } from '../common/cursor';
import { UnitOfWork } from '../database/unit-of-work';
import { AuditEntry } from './entities/audit-entry.entity';

export interface AuditRecord {
  /** Who acted, e.g. "api-key:<id>", "env:ADMIN_API_KEY", "system:retention". */
  actor: string;
  /** What was done, e.g. "record.image.read", "identity.merged". */
  action: string;
  subjectType: string;
  subjectId: string;
  /** Ids and small facts only: never images, features or other biometric data. */
  details?: Record<string, unknown> | null;
}

export interface AuditQuery {
  actor?: string;
  action?: string;
  subjectType?: string;
  subjectId?: string;
  cursor?: string;
  limit: number;
}

/** Append-only audit trail of biometric reads and administrative changes. */
@Injectable()
export class AuditService {
  constructor(private readonly uow: UnitOfWork) {}

  /**
   * Appends the entry for a change inside the change's own transaction (the manager given to UnitOfWork.run()),
   * so that the change and its audit row commit together or not at all.
   */
  async recordIn(manager: EntityManager, entry: AuditRecord): Promise<void> {
    await manager.getRepository(AuditEntry).insert({
      at: Date.now(),
      actor: entry.actor.slice(0, 200),
      action: entry.action,
      subjectType: entry.subjectType,
      subjectId: entry.subjectId,
      details: (entry.details ?? null) as never,
    });
  }

  /** Appends an entry in a transaction of its own: for reads, and for jobs whose changes span many transactions. */
  async record(entry: AuditRecord): Promise<void> {
    await this.uow.run((m) => this.recordIn(m, entry));
  }

  /** Newest first, keyset-paginated by id. */
  async list(q: AuditQuery): Promise<{ items: AuditEntry[]; nextCursor: string | null }> {
    const qb = this.uow.dataSource.getRepository(AuditEntry).createQueryBuilder('a');
    if (q.actor) qb.andWhere('a.actor = :actor', { actor: q.actor });
    if (q.action) qb.andWhere('a.action = :action', { action: q.action });
    if (q.subjectType) qb.andWhere('a.subject_type = :subjectType', { subjectType: q.subjectType });
    if (q.subjectId) qb.andWhere('a.subject_id = :subjectId', { subjectId: q.subjectId });
    if (q.cursor) qb.andWhere('a.id < :after', { after: decodeCursor<{ id: number }>(q.cursor, { id: 'number' }).id });
    const rows = await qb
      .orderBy('a.id', 'DESC')
      .limit(q.limit + 1)
      .getMany();
    const items = rows.slice(0, q.limit);
    const nextCursor = rows.length > q.limit ? encodeCursor({ id: Number(items[items.length - 1].id) }) : null;
    return { items, nextCursor };
  }
}
