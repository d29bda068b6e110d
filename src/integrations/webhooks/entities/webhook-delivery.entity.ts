import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { bigintMs } from '../../../database/transformers';
import { WebhookSubscription } from './webhook-subscription.entity';

export type WebhookDeliveryStatus = 'pending' | 'succeeded' | 'failed';

/**
 * One domain event for one subscription. The body is fixed when the row is made, so every retry
 * sends (and signs) the same bytes under the same webhook-id.
 */
@Entity('webhook_deliveries')
// The outbox relay delivers at least once: a replayed event hits this and adds nothing.
@Index('uq_webhook_deliveries_sub_event', ['subscriptionId', 'eventId'], { unique: true })
@Index('ix_webhook_deliveries_due', ['status', 'nextAttemptAt'])
@Index('ix_webhook_deliveries_sub_status', ['subscriptionId', 'status', 'eventId'])
export class WebhookDelivery {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ name: 'subscription_id', type: 'varchar', length: 36 })
  subscriptionId: string;

  @ManyToOne(() => WebhookSubscription, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'subscription_id' })
  subscription?: WebhookSubscription;

  /** Outbox id of the event: per-subscription send order. */
  @Column({ name: 'event_id', type: 'bigint', transformer: bigintMs })
  eventId: number;

  @Column({ name: 'event_type', type: 'varchar', length: 64 })
  eventType: string;

  /** The JSON body sent (ids and image URLs only). */
  @Column({ type: 'text' })
  payload: string;

  @Column({ type: 'varchar', length: 16 })
  status: WebhookDeliveryStatus;

  @Column({ type: 'integer', default: 0 })
  attempts: number;

  @Column({ name: 'next_attempt_at', type: 'bigint', transformer: bigintMs })
  nextAttemptAt: number;

  /** Instance sending it now, and until when (several instances share the work). */
  @Column({ name: 'claimed_by', type: 'varchar', length: 64, nullable: true })
  claimedBy: string | null;

  @Column({ name: 'claimed_until', type: 'bigint', nullable: true, transformer: bigintMs })
  claimedUntil: number | null;

  @Column({ name: 'last_status_code', type: 'integer', nullable: true })
  lastStatusCode: number | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintMs })
  createdAt: number;

  @Column({ name: 'completed_at', type: 'bigint', nullable: true, transformer: bigintMs })
  completedAt: number | null;
}
