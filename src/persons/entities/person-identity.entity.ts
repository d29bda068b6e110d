import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { BinaryColumn } from '../../database/portable-columns';
import { bigintMs } from '../../database/transformers';

/** Membership: each identity belongs to exactly one person. Also holds the identity's reference face vector. */
@Entity('person_identities')
export class PersonIdentity {
  @PrimaryColumn({ name: 'identity_id', type: 'varchar', length: 36 })
  identityId: string;

  @Index('ix_person_identities_person')
  @Column({ name: 'person_id', type: 'varchar', length: 36 })
  personId: string;

  @Column({ name: 'linked_at', type: 'bigint', transformer: bigintMs })
  linkedAt: number;

  /** own | face-match | operator | identity-merge | unlinked */
  @Column({ name: 'link_reason', type: 'varchar', length: 32 })
  linkReason: string;

  /** Cosine similarity that linked it automatically. */
  @Column({ type: 'double precision', nullable: true })
  similarity: number | null;

  /** The identity's first face (512 float32, L2-normalised): what linking compares. Erasure clears it. */
  @BinaryColumn({ nullable: true })
  feature: Buffer | null;

  /** Bumped whenever feature is set or cleared, under the linking lock: instances refresh their in-memory copy from it. */
  @Index('ix_person_identities_ref_seq')
  @Column({ name: 'ref_seq', type: 'bigint', nullable: true, transformer: bigintMs })
  refSeq: number | null;
}
