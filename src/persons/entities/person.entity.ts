import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintMs } from '../../database/transformers';

/**
 * One human: a group of identities (each box registers its own stranger identity for the same face). Where and
 * when it was last seen is kept here, from its identities' sightings, for the lists ordered by it.
 */
@Entity('persons')
@Index('ix_persons_last_seen', ['lastSeenAt', 'id'])
export class Person {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintMs })
  createdAt: number;

  @Column({ name: 'updated_at', type: 'bigint', transformer: bigintMs })
  updatedAt: number;

  @Column({ name: 'first_seen_at', type: 'bigint', nullable: true, transformer: bigintMs })
  firstSeenAt: number | null;

  /** Box event time of the newest sighting; 0 when never seen (keeps the keyset order total). */
  @Column({ name: 'last_seen_at', type: 'bigint', transformer: bigintMs })
  lastSeenAt: number;

  @Column({ name: 'last_record_id', type: 'varchar', length: 36, nullable: true })
  lastRecordId: string | null;

  @Column({ name: 'last_box_id', type: 'varchar', length: 36, nullable: true })
  lastBoxId: string | null;

  @Column({ name: 'last_media_device_id', type: 'varchar', length: 36, nullable: true })
  lastMediaDeviceId: string | null;

  /** user_type of the newest sighting's record. */
  @Index('ix_persons_last_user_type')
  @Column({ name: 'last_user_type', type: 'varchar', length: 32, nullable: true })
  lastUserType: string | null;
}
