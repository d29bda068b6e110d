import { Injectable } from '@nestjs/common';
import { EntityManager, In, IsNull } from 'typeorm';
import { chunks } from '../common/chunks';
import { UnitOfWork } from '../database/unit-of-work';
import { DomainEvent, eventTypeOf, serialiseEvent, withoutImageReferences } from './domain-events';
import { OutboxEvent } from './entities/outbox-event.entity';

/**
 * Writes domain events into the outbox inside the caller's transaction, and removes or rewrites them for
 * retention and erasure (also in the caller's transaction).
 */
@Injectable()
export class OutboxService {
  constructor(private readonly uow: UnitOfWork) {}

  async enqueue(manager: EntityManager, aggregateId: string, events: DomainEvent[], now: number): Promise<void> {
    await this.enqueueMany(manager, [{ aggregateId, events }], now);
  }

  /** The events of several aggregates, in the order given, in one statement (ingest writes a whole batch at once). */
  async enqueueMany(manager: EntityManager, entries: { aggregateId: string; events: DomainEvent[] }[], now: number): Promise<void> {
    const rows = entries.flatMap(({ aggregateId, events }) =>
      events.map((event) => [eventTypeOf(event), aggregateId, JSON.stringify(serialiseEvent(event)), now, now]),
    );
    for (const chunk of this.uow.dialect.valuesChunks(rows, 5)) {
      await manager.query(
        `INSERT INTO outbox_events (type, aggregate_id, payload, created_at, available_at) VALUES ${chunk.sql}`,
        chunk.params,
      );
    }
  }

  /** Deletes every event about these aggregates (relayed or not); returns the deleted events' ids. */
  async removeOfAggregates(manager: EntityManager, aggregateIds: string[]): Promise<number[]> {
    const repo = manager.getRepository(OutboxEvent);
    const removed: number[] = [];
    for (const ids of chunks(aggregateIds)) {
      const rows = await repo.find({ select: { id: true }, where: { aggregateId: In(ids) } });
      if (rows.length === 0) continue;
      await repo.delete({ aggregateId: In(ids) });
      removed.push(...rows.map((r) => Number(r.id)));
    }
    return removed;
  }

  /** Events of these types not relayed yet, oldest first: id and aggregate only. */
  async unrelayed(manager: EntityManager, types: string[]): Promise<{ id: number; aggregateId: string }[]> {
    const rows = await manager.getRepository(OutboxEvent).find({
      select: { id: true, aggregateId: true },
      where: { processedAt: IsNull(), type: In(types) },
      order: { id: 'ASC' },
    });
    return rows.map((r) => ({ id: Number(r.id), aggregateId: r.aggregateId }));
  }

  async remove(manager: EntityManager, ids: number[]): Promise<void> {
    for (const some of chunks(ids)) await manager.getRepository(OutboxEvent).delete({ id: In(some) });
  }

  /**
   * Erasure: removes image hashes (and image maps) from the payloads of these aggregates' events, which stay
   * otherwise as they were. Returns how many changed, and the ids of all the aggregates' events.
   */
  async scrubImageReferences(manager: EntityManager, aggregateIds: string[]): Promise<{ scrubbed: number; eventIds: number[] }> {
    const repo = manager.getRepository(OutboxEvent);
    const result = { scrubbed: 0, eventIds: [] as number[] };
    for (const ids of chunks(aggregateIds)) {
      const rows = await repo.find({ select: { id: true, payload: true }, where: { aggregateId: In(ids) } });
      for (const row of rows) {
        result.eventIds.push(Number(row.id));
        const payload = withoutImageReferences(row.payload) as Record<string, unknown> | null;
        if (!payload) continue;
        // simple-json column: TypeORM's deep-partial type cannot express an open record.
        await repo.update({ id: row.id }, { payload: payload as never });
        result.scrubbed++;
      }
    }
    return result;
  }
}
