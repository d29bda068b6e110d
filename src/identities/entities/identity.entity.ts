import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintMs } from '../../database/transformers';

/** A person (or vehicle) known to the boxes' face library, keyed by the box's identity_id. */
@Entity('identities')
export class Identity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Index('uq_identities_external_id', { unique: true })
  @Column({ name: 'external_id', type: 'varchar', length: 128 })
  externalId: string;

  @Column({ type: 'varchar', length: 200, nullable: true })
  name: string | null;

  /** employee | visitor | blacklist | stranger | vip | car, or whatever newer firmware sends. */
  @Index('ix_identities_user_type')
  @Column({ name: 'user_type', type: 'varchar', length: 32, nullable: true })
  userType: string | null;

  @Column({ name: 'first_seen_at', type: 'bigint', transformer: bigintMs })
  firstSeenAt: number;

  /** Event time (box clock) of the newest record naming this identity. */
  @Column({ name: 'last_seen_at', type: 'bigint', transformer: bigintMs })
  lastSeenAt: number;

  @Column({ name: 'updated_at', type: 'bigint', transformer: bigintMs })
  updatedAt: number;

  /** When an operator last set name or user_type over REST; from then on pushes no longer overwrite them. */
  @Column({ name: 'edited_at', type: 'bigint', nullable: true, transformer: bigintMs })
  editedAt: number | null;

  /** Set when an operator merged this identity into another: kept so later pushes naming it land on that one. */
  @Column({ name: 'merged_into_id', type: 'varchar', length: 36, nullable: true })
  mergedIntoId: string | null;
}
