import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintMs } from '../../database/transformers';

/**
 * A broker's own position in the outbox (like a webhook subscription's): events up to last_event_id were
 * confirmed by the broker. The lease says which instance publishes this stream (one at a time).
 */
@Entity('broker_streams')
export class BrokerStream {
  /** "mqtt" or "amqp". */
  @PrimaryColumn({ type: 'varchar', length: 32 })
  name: string;

  @Column({ name: 'last_event_id', type: 'bigint', transformer: bigintMs })
  lastEventId: number;

  @Column({ name: 'lease_owner', type: 'varchar', length: 64, nullable: true })
  leaseOwner: string | null;

  @Column({ name: 'lease_until', type: 'bigint', nullable: true, transformer: bigintMs })
  leaseUntil: number | null;

  @Column({ name: 'updated_at', type: 'bigint', transformer: bigintMs })
  updatedAt: number;
}
