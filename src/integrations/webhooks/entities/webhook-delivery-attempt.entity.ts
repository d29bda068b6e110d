import { Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { BigAutoIncrementPrimaryColumn } from '../../../database/portable-columns';
import { bigintMs } from '../../../database/transformers';
import { WebhookDelivery } from './webhook-delivery.entity';

/** One HTTP attempt of a delivery: what the receiver answered, or why it could not. */
@Entity('webhook_delivery_attempts')
@Index('ix_webhook_attempts_delivery', ['deliveryId', 'attempt'])
export class WebhookDeliveryAttempt {
  @BigAutoIncrementPrimaryColumn()
  id: string | number;

  @Column({ name: 'delivery_id', type: 'varchar', length: 36 })
  deliveryId: string;

  @ManyToOne(() => WebhookDelivery, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'delivery_id' })
  delivery?: WebhookDelivery;

  /** 1 for the first attempt. */
  @Column({ type: 'integer' })
  attempt: number;

  @Column({ name: 'started_at', type: 'bigint', transformer: bigintMs })
  startedAt: number;

  @Column({ name: 'duration_ms', type: 'integer' })
  durationMs: number;

  @Column({ name: 'status_code', type: 'integer', nullable: true })
  statusCode: number | null;

  /** Network error, timeout, or why the status counts as a failure. */
  @Column({ type: 'text', nullable: true })
  error: string | null;

  @Column({ type: 'boolean' })
  succeeded: boolean;
}
