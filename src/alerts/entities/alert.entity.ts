import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { bigintMs } from '../../database/transformers';

/** Someone on a watch list (blacklist, vip) was recognised. One row per record and kind. */
@Entity('alerts')
// Replays of an event (at-least-once relay) hit this and change nothing.
@Index('uq_alerts_record_kind', ['recordId', 'kind'], { unique: true })
@Index('ix_alerts_occurred', ['occurredAt'])
export class Alert {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  /** blacklist-seen | vip-seen */
  @Column({ type: 'varchar', length: 32 })
  kind: string;

  /** Outbox event that raised it (for tracing). */
  @Column({ name: 'event_id', type: 'bigint', nullable: true, transformer: bigintMs })
  eventId: number | null;

  @Column({ name: 'record_id', type: 'varchar', length: 36 })
  recordId: string;

  // Erasing the record erases its alerts. The relation only keeps that foreign key in the schema; it names the records
  // module's entity by name so that this module does not import it, and nothing loads it.
  @ManyToOne('RecognitionRecord', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'record_id' })
  private readonly record?: never;

  @Column({ name: 'identity_id', type: 'varchar', length: 36, nullable: true })
  identityId: string | null;

  @Column({ name: 'identity_external_id', type: 'varchar', length: 128 })
  identityExternalId: string;

  @Column({ name: 'identity_name', type: 'varchar', length: 200, nullable: true })
  identityName: string | null;

  @Column({ name: 'box_id', type: 'varchar', length: 36 })
  boxId: string;

  @Column({ name: 'media_device_id', type: 'varchar', length: 36 })
  mediaDeviceId: string;

  @Column({ type: 'double precision', nullable: true })
  score: number | null;

  /** Box event time of the sighting. */
  @Column({ name: 'occurred_at', type: 'bigint', transformer: bigintMs })
  occurredAt: number;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintMs })
  createdAt: number;
}
