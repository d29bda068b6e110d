import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { UnitOfWork } from '../database/unit-of-work';
import { DomainEvent, eventTypeOf, serialiseEvent } from './domain-events';

/** Writes domain events into the outbox inside the caller's transaction. */
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
}
