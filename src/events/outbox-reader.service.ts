import { Injectable } from '@nestjs/common';
import { And, FindOptionsWhere, In, LessThanOrEqual, MoreThan } from 'typeorm';
import { UnitOfWork } from '../database/unit-of-work';
import { OutboxEvent } from './entities/outbox-event.entity';

/** One outbox row as readers outside the events module see it (no relay bookkeeping). */
export interface OutboxEntry {
  id: number;
  type: string;
  /** Id of the record, identity, … the event is about. */
  aggregateId: string;
  payload: Record<string, unknown>;
  createdAt: number;
}

/**
 * Reads the outbox in id order for consumers that replay it (the event stream, webhooks). Rows stay in the
 * outbox after relay until retention purges them. The events module owns `outbox_events`: nobody else queries it.
 */
@Injectable()
export class OutboxReader {
  constructor(private readonly uow: UnitOfWork) {}

  private get repo() {
    return this.uow.dataSource.getRepository(OutboxEvent);
  }

  /** Rows with after < id <= upTo, of these types when given, oldest first. */
  async readAfter(opts: { after: number; upTo?: number; limit: number; types?: string[] }): Promise<OutboxEntry[]> {
    const where: FindOptionsWhere<OutboxEvent> = {
      id: opts.upTo === undefined ? MoreThan(opts.after) : And(MoreThan(opts.after), LessThanOrEqual(opts.upTo)),
    };
    if (opts.types?.length) where.type = In(opts.types);
    const rows = await this.repo.find({
      select: { id: true, type: true, aggregateId: true, payload: true, createdAt: true },
      where,
      order: { id: 'ASC' },
      take: opts.limit,
    });
    return rows.map((r) => ({ id: Number(r.id), type: r.type, aggregateId: r.aggregateId, payload: r.payload, createdAt: r.createdAt }));
  }

  /** The rows with these ids (those that still exist), oldest first. */
  async byIds(ids: number[]): Promise<OutboxEntry[]> {
    if (ids.length === 0) return [];
    const rows = await this.repo.find({
      select: { id: true, type: true, aggregateId: true, payload: true, createdAt: true },
      where: { id: In(ids) },
      order: { id: 'ASC' },
    });
    return rows.map((r) => ({ id: Number(r.id), type: r.type, aggregateId: r.aggregateId, payload: r.payload, createdAt: r.createdAt }));
  }

  async one(id: number): Promise<OutboxEntry | null> {
    const [entry] = await this.readAfter({ after: id - 1, upTo: id, limit: 1 });
    return entry ?? null;
  }

  /** Ids and write times of the rows after `after` (a primary-key range read). */
  async idsAfter(after: number): Promise<{ id: number; createdAt: number }[]> {
    const rows = await this.repo.find({ select: { id: true, createdAt: true }, where: { id: MoreThan(after) }, order: { id: 'ASC' } });
    return rows.map((r) => ({ id: Number(r.id), createdAt: r.createdAt }));
  }

  async maxId(): Promise<number> {
    const row = await this.repo.createQueryBuilder('o').select('MAX(o.id)', 'm').getRawOne<{ m: number | string | null }>();
    return Number(row?.m ?? 0);
  }
}
