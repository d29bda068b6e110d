import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintMs } from '../../database/transformers';

/** An SE AI compute box, known by the license key it sends as mq_license_key. */
@Entity('boxes')
export class Box {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Index('uq_boxes_license_key', { unique: true })
  @Column({ name: 'license_key', type: 'varchar', length: 128 })
  licenseKey: string;

  /** Operator-given name; null until someone names it. */
  @Column({ type: 'varchar', length: 200, nullable: true })
  name: string | null;

  @Column({ type: 'boolean', default: true })
  enabled: boolean;

  /** api_version of the last push ("1.0"/"2.0"; "legacy" for V5 firmware). */
  @Column({ name: 'api_version', type: 'varchar', length: 16, nullable: true })
  apiVersion: string | null;

  /** Source address of the last push. */
  @Column({ name: 'last_address', type: 'varchar', length: 64, nullable: true })
  lastAddress: string | null;

  @Column({ name: 'first_seen_at', type: 'bigint', transformer: bigintMs })
  firstSeenAt: number;

  @Column({ name: 'last_seen_at', type: 'bigint', transformer: bigintMs })
  lastSeenAt: number;

  /** sha256 (hex) of the secret in this box's callback URL; null means the plain URL is accepted. */
  @Column({ name: 'callback_token_hash', type: 'varchar', length: 64, nullable: true })
  callbackTokenHash: string | null;

  /** CIDR networks this box may push from; null means any address. */
  @Column({ name: 'allowed_networks', type: 'simple-json', nullable: true })
  allowedNetworks: string[] | null;
}
