import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintMs } from '../../database/transformers';

/** Where an identity was seen: first and latest sighting per media device (presence reads these). */
@Entity('identity_sightings')
@Index('ix_identity_sightings_last_seen', ['lastSeenAt'])
export class IdentitySighting {
  @PrimaryColumn({ name: 'identity_id', type: 'varchar', length: 36 })
  identityId: string;

  @PrimaryColumn({ name: 'media_device_id', type: 'varchar', length: 36 })
  mediaDeviceId: string;

  @Column({ name: 'box_id', type: 'varchar', length: 36 })
  boxId: string;

  @Column({ name: 'first_seen_at', type: 'bigint', transformer: bigintMs })
  firstSeenAt: number;

  @Column({ name: 'last_seen_at', type: 'bigint', transformer: bigintMs })
  lastSeenAt: number;

  @Column({ name: 'last_record_id', type: 'varchar', length: 36 })
  lastRecordId: string;

  @Column({ name: 'last_user_type', type: 'varchar', length: 32, nullable: true })
  lastUserType: string | null;
}
