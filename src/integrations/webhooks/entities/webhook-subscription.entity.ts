import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintMs } from '../../../database/transformers';

/** An admin-configured receiver of signed domain events. */
@Entity('webhook_subscriptions')
export class WebhookSubscription {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 2000 })
  url: string;

  /** Domain event types sent here; ["*"] means all. */
  @Column({ name: 'event_types', type: 'simple-json' })
  eventTypes: string[];

  /** "whsec_" + base64 key for the Standard Webhooks HMAC; needed in clear to sign, never returned after creation. */
  @Column({ type: 'varchar', length: 128 })
  secret: string;

  @Column({ type: 'varchar', length: 200, nullable: true })
  description: string | null;

  @Column({ type: 'boolean', default: true })
  enabled: boolean;

  /** Outbox id current at creation: older events are not sent to a new subscription. */
  @Column({ name: 'start_after_event_id', type: 'bigint', transformer: bigintMs })
  startAfterEventId: number;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintMs })
  createdAt: number;

  @Column({ name: 'updated_at', type: 'bigint', transformer: bigintMs })
  updatedAt: number;
}
