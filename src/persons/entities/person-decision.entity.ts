import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintMs } from '../../database/transformers';

/**
 * An operator said two identities are not one human (a rejected suggestion, an unlink). Stored both ways round;
 * automatic linking never puts two such identities into one person. An operator's own link lifts it.
 */
@Entity('person_decisions')
export class PersonDecision {
  @PrimaryColumn({ name: 'identity_id', type: 'varchar', length: 36 })
  identityId: string;

  @PrimaryColumn({ name: 'other_identity_id', type: 'varchar', length: 36 })
  otherIdentityId: string;

  /** rejected | unlinked */
  @Column({ type: 'varchar', length: 16 })
  decision: string;

  @Column({ name: 'decided_by', type: 'varchar', length: 200 })
  decidedBy: string;

  @Column({ name: 'decided_at', type: 'bigint', transformer: bigintMs })
  decidedAt: number;
}
