import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintMs } from '../../database/transformers';
import type { AlertRuleConditions } from '../alert-rule.types';

/** An admin-managed alert rule: which records raise an alert, how severe, and how often per person and camera. */
@Entity('alert_rules')
export class AlertRule {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  @Column({ type: 'boolean', default: true })
  enabled: boolean;

  /** info | warning | critical */
  @Column({ type: 'varchar', length: 16 })
  severity: string;

  /** Per (person or identity, media device): a record within this many seconds of an earlier alert raises none. */
  @Column({ name: 'cooldown_seconds', type: 'integer', default: 0 })
  cooldownSeconds: number;

  /** What a record must match (JSON); see AlertRuleConditions. */
  @Column({ type: 'simple-json' })
  conditions: AlertRuleConditions;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintMs })
  createdAt: number;

  @Column({ name: 'updated_at', type: 'bigint', transformer: bigintMs })
  updatedAt: number;
}
