import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { bigintMs } from '../../database/transformers';
import { Box } from './box.entity';

/** A camera, gate or photo terminal behind a box (media_device_info). */
@Entity('media_devices')
@Index('uq_media_devices_box_device', ['boxId', 'deviceId'], { unique: true })
export class MediaDevice {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ name: 'box_id', type: 'varchar', length: 36 })
  boxId: string;

  @ManyToOne(() => Box, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'box_id' })
  box?: Box;

  /** media_device_id as the box names it; unique within its box. */
  @Column({ name: 'device_id', type: 'varchar', length: 128 })
  deviceId: string;

  /** photo | rtsp | file as sent. */
  @Column({ type: 'varchar', length: 32, nullable: true })
  type: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  ip: string | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  name: string | null;

  @Column({ type: 'varchar', length: 1000, nullable: true })
  url: string | null;

  @Column({ name: 'first_seen_at', type: 'bigint', transformer: bigintMs })
  firstSeenAt: number;

  @Column({ name: 'last_seen_at', type: 'bigint', transformer: bigintMs })
  lastSeenAt: number;
}
