import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { BinaryColumn } from '../../database/portable-columns';
import { bigintMs } from '../../database/transformers';
import { Identity } from './identity.entity';

/**
 * One registered face in an identity's face library. The newest by capture time is current;
 * older ones stay as history.
 */
@Entity('faces')
@Index('uq_faces_identity_source_record', ['identityId', 'sourceRecordId'], { unique: true })
@Index('ix_faces_image', ['imageSha256'])
// At most one current face per identity, enforced by the database whatever instance applies the change.
@Index('uq_faces_identity_current', ['identityId'], { unique: true, where: 'is_current' })
export class Face {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Index('ix_faces_identity')
  @Column({ name: 'identity_id', type: 'varchar', length: 36 })
  identityId: string;

  @ManyToOne(() => Identity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'identity_id' })
  identity?: Identity;

  /** Recognition record the face came from; makes replays idempotent. */
  @Column({ name: 'source_record_id', type: 'varchar', length: 36 })
  sourceRecordId: string;

  /** stranger-registered | face-library-updated */
  @Column({ type: 'varchar', length: 32 })
  source: string;

  @Column({ name: 'image_sha256', type: 'varchar', length: 64, nullable: true })
  imageSha256: string | null;

  @BinaryColumn({ nullable: true })
  feature: Buffer | null;

  @Column({ name: 'is_current', type: 'boolean', default: false })
  isCurrent: boolean;

  /** Box event time of the source record: decides which face is newest, whatever order events arrive in. */
  @Column({ name: 'captured_at', type: 'bigint', transformer: bigintMs })
  capturedAt: number;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintMs })
  createdAt: number;
}
