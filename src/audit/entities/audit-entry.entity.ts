import { Column, Entity, Index } from 'typeorm';
import { BigAutoIncrementPrimaryColumn } from '../../database/portable-columns';
import { bigintMs } from '../../database/transformers';

/** One audited action: who did what to which subject. Never holds biometric data itself. */
@Entity('audit_log')
@Index('ix_audit_log_subject', ['subjectType', 'subjectId'])
export class AuditEntry {
  @BigAutoIncrementPrimaryColumn()
  id: string;

  @Index('ix_audit_log_at')
  @Column({ type: 'bigint', transformer: bigintMs })
  at: number;

  @Column({ type: 'varchar', length: 200 })
  actor: string;

  @Column({ type: 'varchar', length: 64 })
  action: string;

  @Column({ name: 'subject_type', type: 'varchar', length: 64 })
  subjectType: string;

  @Column({ name: 'subject_id', type: 'varchar', length: 128 })
  subjectId: string;

  @Column({ type: 'simple-json', nullable: true })
  details: Record<string, unknown> | null;
}
