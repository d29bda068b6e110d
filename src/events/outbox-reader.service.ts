import { isPlainObject } from '../common/plain-object';
import { Injectable } from '@nestjs/common';
import { MoreThan } from 'typeorm';
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

  /**
   * Rows with after < id <= upTo, of these types when given, oldest first. Read after every commit (face index,
   * event stream, brokers), so in plain SQL: the repository's find() cost more CPU than the query itself.
   */
  async readAfter(opts: { after: number; upTo?: number; limit: number; types?: string[] }): Promise<OutboxEntry[]> {
    const d = this.uow.dialect;
    const params: unknown[] = [opts.after];
    let where = `id > ${d.p(1)}`;
    if (opts.upTo !== undefined) {
      params.push(opts.upTo);
      where += ` AND id <= ${d.p(params.length)}`;
    }
    if (opts.types?.length) {
      where += ` AND type IN (${d.params(params.length + 1, opts.types.length)})`;
      params.push(...opts.types);
    }
    params.push(opts.limit);
    return this.select(`${where} ORDER BY id LIMIT ${d.p(params.length)}`, params);
  }

  /** The rows with these ids (those that still exist), oldest first. */
  async byIds(ids: number[]): Promise<OutboxEntry[]> {
    if (ids.length === 0) return [];
    return this.select(`id IN (${this.uow.dialect.params(1, ids.length)}) ORDER BY id`, ids);
  }

  private async select(whereAndOrder: string, params: unknown[]): Promise<OutboxEntry[]> {
    const rows: { id: number | string; type: string; aggregate_id: string; payload: string; created_at: number | string }[] =
      await this.uow.dataSource.query(
        `SELECT id, type, aggregate_id, payload, created_at FROM outbox_events WHERE ${whereAndOrder}`,
        params,
      );
    return rows.map((r) => ({
      id: Number(r.id),
      type: r.type,
      aggregateId: r.aggregate_id,
      payload: parsePayload(r.payload),
      createdAt: Number(r.created_at),
    }));
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

/**
 * A row's payload; {} for one that is not a JSON object (the hub writes only objects: such a row was written by
 * hand or damaged). Thrown, the parse error would fail the whole page, and every reader replaying the outbox (the
 * face index, the event stream) would stop at that row for good.
 */
function parsePayload(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    if (isPlainObject(value)) return value;
  } catch {
    // not JSON
  }
  return {};
}
