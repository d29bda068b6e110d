import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { bigintMs } from '../../database/transformers';

/** An alert rule matched a record. One row per (rule, record), whatever the redeliveries. */
@Entity('alerts')
// Replays of an event (at-least-once relay), and restarts, hit this and change nothing.
@Index('uq_alerts_rule_record', ['ruleId', 'recordId'], { unique: true })
@Index('ix_alerts_occurred', ['occurredAt'])
@Index('ix_alerts_created', ['createdAt', 'id'])
// The cooldown question: did this rule alert for this person on this camera around this time?
@Index('ix_alerts_cooldown', ['ruleId', 'cooldownKey', 'mediaDeviceId', 'occurredAt'])
export class Alert {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  /** The rule that raised it (kept when the rule is deleted, with its name at the time). */
  @Column({ name: 'rule_id', type: 'varchar', length: 36 })
  ruleId: string;

  @Column({ name: 'rule_name', type: 'varchar', length: 200 })
  ruleName: string;

  /** info | warning | critical, from the rule. */
  @Column({ type: 'varchar', length: 16 })
  severity: string;

  /** open | acknowledged */
  @Column({ type: 'varchar', length: 16, default: 'open' })
  state: string;

  /** Outbox event the alert was raised from (for tracing). */
  @Column({ name: 'event_id', type: 'bigint', nullable: true, transformer: bigintMs })
  eventId: number | null;

  @Column({ name: 'record_id', type: 'varchar', length: 36 })
  recordId: string;

  // Erasing the record erases its alerts. The relation only keeps that foreign key in the schema; it names the records
  // module's entity by name so that this module does not import it, and nothing loads it.
  @ManyToOne('RecognitionRecord', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'record_id' })
  private readonly record?: never;

  @Column({ name: 'person_id', type: 'varchar', length: 64, nullable: true })
  personId: string | null;

  @Column({ name: 'identity_id', type: 'varchar', length: 36, nullable: true })
  identityId: string | null;

  @Column({ name: 'identity_external_id', type: 'varchar', length: 128 })
  identityExternalId: string;

  @Column({ name: 'identity_name', type: 'varchar', length: 200, nullable: true })
  identityName: string | null;

  /** person:<id>, identity:<id> or none: who the cooldown counts per. */
  @Column({ name: 'cooldown_key', type: 'varchar', length: 80 })
  cooldownKey: string;

  @Column({ name: 'box_id', type: 'varchar', length: 36 })
  boxId: string;

  @Column({ name: 'media_device_id', type: 'varchar', length: 36 })
  mediaDeviceId: string;

  @Column({ type: 'double precision', nullable: true })
  score: number | null;

  /** Box event time of the sighting. */
  @Column({ name: 'occurred_at', type: 'bigint', transformer: bigintMs })
  occurredAt: number;

  /** When it was raised. */
  @Column({ name: 'created_at', type: 'bigint', transformer: bigintMs })
  createdAt: number;

  @Column({ name: 'acknowledged_at', type: 'bigint', nullable: true, transformer: bigintMs })
  acknowledgedAt: number | null;

  @Column({ name: 'acknowledged_by', type: 'varchar', length: 200, nullable: true })
  acknowledgedBy: string | null;

  @Column({ name: 'acknowledge_comment', type: 'varchar', length: 1000, nullable: true })
  acknowledgeComment: string | null;
}
