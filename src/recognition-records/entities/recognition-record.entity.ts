import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { BinaryColumn } from '../../database/portable-columns';
import { bigintMs } from '../../database/transformers';
import type { FaceAttributes, RecordDefect } from '../recognition-record.types';

/**
 * One recognition event reported by a box: who was seen, where, when, with which images.
 * The box, media device and identity belong to other modules: the relations below exist only so the schema keeps its
 * foreign keys (and their ON DELETE), and name their targets by entity name so this module never imports their
 * entities. Nothing loads them: read the ids, and ask the owning module's service.
 */
@Entity('recognition_records')
// The box's natural key for an event (its timestamp as sent); retries of the same event collide here and are ignored.
@Index('uq_records_box_event', ['boxId', 'deviceExternalId', 'identityExternalId', 'boxTimestamp'], { unique: true })
@Index('ix_records_occurred', ['occurredAt', 'id'])
@Index('ix_records_device_occurred', ['mediaDeviceId', 'occurredAt'])
@Index('ix_records_identity_occurred', ['identityId', 'occurredAt'])
// Retention and erasure ask whether any record still references an image.
@Index('ix_records_reg_image', ['regImageSha256'])
@Index('ix_records_spot_image', ['spotImageSha256'])
@Index('ix_records_ir_image', ['irImageSha256'])
@Index('ix_records_face_image', ['faceImageSha256'])
// Filters of the consumer API (box, user_type) within a time range.
@Index('ix_records_box_occurred', ['boxId', 'occurredAt'])
@Index('ix_records_user_type_occurred', ['userType', 'occurredAt'])
export class RecognitionRecord {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ name: 'box_id', type: 'varchar', length: 36 })
  boxId: string;

  @ManyToOne('Box', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'box_id' })
  private readonly box?: never;

  @Column({ name: 'media_device_id', type: 'varchar', length: 36 })
  mediaDeviceId: string;

  @ManyToOne('MediaDevice', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'media_device_id' })
  private readonly mediaDevice?: never;

  /** media_device_id as sent, part of the event's natural key. */
  @Column({ name: 'device_external_id', type: 'varchar', length: 128 })
  deviceExternalId: string;

  @Column({ name: 'identity_id', type: 'varchar', length: 36, nullable: true })
  identityId: string | null;

  @ManyToOne('Identity', { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'identity_id' })
  private readonly identity?: never;

  /** identity_id as sent ("" when the box named nobody), part of the natural key. */
  @Column({ name: 'identity_external_id', type: 'varchar', length: 128 })
  identityExternalId: string;

  /** identity_name as sent with this event. */
  @Column({ name: 'identity_name', type: 'varchar', length: 200, nullable: true })
  identityName: string | null;

  @Column({ name: 'user_type', type: 'varchar', length: 32, nullable: true })
  userType: string | null;

  /** Event time (epoch ms): the box's timestamp, or the receive time when that was outside the accepted window. */
  @Column({ name: 'occurred_at', type: 'bigint', transformer: bigintMs })
  occurredAt: number;

  /** timestamp exactly as the box sent it (part of the natural key). Nullable only so it could be added to
   * existing tables; the migration fills it from occurred_at and every insert sets it. */
  @Column({ name: 'box_timestamp', type: 'bigint', nullable: true, transformer: bigintMs })
  boxTimestamp: number | null;

  @Column({ name: 'entered_at', type: 'bigint', nullable: true, transformer: bigintMs })
  enteredAt: number | null;

  @Column({ name: 'left_at', type: 'bigint', nullable: true, transformer: bigintMs })
  leftAt: number | null;

  /** score exactly as sent (0-100 on current firmware, 0-1 on older). */
  @Column({ name: 'score_raw', type: 'double precision', nullable: true })
  scoreRaw: number | null;

  /** score on a 0-1 scale; null when the sent value was unusable. */
  @Column({ type: 'double precision', nullable: true })
  score: number | null;

  /** "0", "1001" (stranger registered), "1002" (face library updated), or as sent. */
  @Column({ name: 'post_action', type: 'varchar', length: 16, nullable: true })
  postAction: string | null;

  @Column({ name: 'api_version', type: 'varchar', length: 16, nullable: true })
  apiVersion: string | null;

  @Column({ type: 'simple-json', nullable: true })
  attributes: FaceAttributes | null;

  /** 5 facial landmarks as 10 floats (x1,y1,…). */
  @Column({ type: 'simple-json', nullable: true })
  landmarks: number[] | null;

  /** Face bounding box [x1,y1,x2,y2] in the scene image. */
  @Column({ name: 'face_box', type: 'simple-json', nullable: true })
  faceBox: number[] | null;

  /** 512 little-endian float32 values, as the box computed them. */
  @BinaryColumn({ nullable: true })
  feature: Buffer | null;

  @Column({ name: 'reg_image_sha256', type: 'varchar', length: 64, nullable: true })
  regImageSha256: string | null;

  @Column({ name: 'spot_image_sha256', type: 'varchar', length: 64, nullable: true })
  spotImageSha256: string | null;

  @Column({ name: 'ir_image_sha256', type: 'varchar', length: 64, nullable: true })
  irImageSha256: string | null;

  @Column({ name: 'face_image_sha256', type: 'varchar', length: 64, nullable: true })
  faceImageSha256: string | null;

  /** Lesser defects the record was stored with (undecodable image, unknown enum, …). */
  @Column({ type: 'simple-json' })
  defects: RecordDefect[];

  @Index('ix_records_has_defects')
  @Column({ name: 'has_defects', type: 'boolean', default: false })
  hasDefects: boolean;

  /** Fields the platform does not know yet, kept verbatim (large strings omitted). */
  @Column({ type: 'simple-json', nullable: true })
  extra: Record<string, unknown> | null;

  @Column({ name: 'source_address', type: 'varchar', length: 64, nullable: true })
  sourceAddress: string | null;

  /** Server time the record was stored. */
  @Column({ name: 'received_at', type: 'bigint', transformer: bigintMs })
  receivedAt: number;
}
