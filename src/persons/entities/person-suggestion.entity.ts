import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintMs } from '../../database/transformers';

/** "This identity may be this person": a match between the suggest and link thresholds, for an operator. */
@Entity('person_suggestions')
@Index('uq_person_suggestions_pair', ['personId', 'identityId'], { unique: true })
export class PersonSuggestion {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ name: 'person_id', type: 'varchar', length: 36 })
  personId: string;

  @Index('ix_person_suggestions_identity')
  @Column({ name: 'identity_id', type: 'varchar', length: 36 })
  identityId: string;

  @Column({ type: 'double precision' })
  similarity: number;

  /** pending | accepted | rejected */
  @Column({ type: 'varchar', length: 16 })
  status: string;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintMs })
  createdAt: number;

  @Column({ name: 'decided_at', type: 'bigint', nullable: true, transformer: bigintMs })
  decidedAt: number | null;

  @Column({ name: 'decided_by', type: 'varchar', length: 200, nullable: true })
  decidedBy: string | null;
}
