import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { UnitOfWork } from '../database/unit-of-work';
import { DomainEvent, eventTypeOf, serialiseEvent } from './domain-events';

/** Writes domain events into the outbox inside the caller's transaction. */
@Injectable()
export class OutboxService {
  constructor(private readonly uow: UnitOfWork) {}

  async enqueue(manager: EntityManager, aggregateId: string, events: DomainEvent[], now: number): Promise<void> {
    const d = this.uow.dialect;
    for (const event of events) {
      await manager.query(
        `INSERT INTO outbox_events (type, aggregate_id, payload, created_at, available_at, attempts)
         VALUES (${d.params(1, 5)}, 0)`,
        [eventTypeOf(event), aggregateId, JSON.stringify(serialiseEvent(event)), now, now],
      );
    }
  }
}
