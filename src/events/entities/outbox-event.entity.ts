import { Column, Entity, Index } from 'typeorm';
import { BigAutoIncrementPrimaryColumn } from '../../database/portable-columns';
import { bigintMs } from '../../database/transformers';

/**
 * A domain event written in the same transaction as the change that caused it,
 * relayed to listeners after commit (at least once).
 */
@Entity('outbox_events')
@Index('ix_outbox_due', ['processedAt', 'availableAt'])
@Index('ix_outbox_aggregate', ['aggregateId'])
export class OutboxEvent {
  /** Relay order; PostgreSQL returns int8 as a string. */
  @BigAutoIncrementPrimaryColumn()
  id: string | number;

  @Column({ type: 'varchar', length: 64 })
  type: string;

  /** Id of the record, identity, … the event is about. */
  @Column({ name: 'aggregate_id', type: 'varchar', length: 64 })
  aggregateId: string;

  @Column({ type: 'simple-json' })
  payload: Record<string, unknown>;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintMs })
  createdAt: number;

  /** Not relayed before this time (retry backoff). */
  @Column({ name: 'available_at', type: 'bigint', transformer: bigintMs })
  availableAt: number;

  @Column({ type: 'integer', default: 0 })
  attempts: number;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;

  /** Instance holding the claim, and until when. */
  @Column({ name: 'claimed_by', type: 'varchar', length: 64, nullable: true })
  claimedBy: string | null;

  @Column({ name: 'claimed_until', type: 'bigint', nullable: true, transformer: bigintMs })
  claimedUntil: number | null;

  @Column({ name: 'processed_at', type: 'bigint', nullable: true, transformer: bigintMs })
  processedAt: number | null;
}
