import { MigrationInterface, QueryRunner, Table, TableColumn, TableIndex } from 'typeorm';

/** The two watch-list alerts of earlier releases, now rules an admin may edit (ids fixed so upgrades agree). */
export const DEFAULT_ALERT_RULES = [
  {
    id: '00000000-0000-4000-a000-000000000001',
    kind: 'blacklist-seen',
    name: 'Blacklist seen',
    severity: 'critical',
    conditions: { userTypes: ['blacklist'] },
  },
  {
    id: '00000000-0000-4000-a000-000000000002',
    kind: 'vip-seen',
    name: 'VIP seen',
    severity: 'info',
    conditions: { userTypes: ['vip'] },
  },
] as const;

/**
 * Admin-managed alert rules (src/alerts): the alert_rules table with the two default rules, and alerts reworked
 * from one row per (record, kind) to one per (rule, record), with severity, state and acknowledgement. Existing
 * alerts are kept under the default rule of their kind.
 */
export class AlertRules1764900000000 implements MigrationInterface {
  name = 'AlertRules1764900000000';

  async up(q: QueryRunner): Promise<void> {
    const pg = q.connection.options.type === 'postgres';
    const p = (n: number) => (pg ? `$${n}` : '?');
    await q.createTable(
      new Table({
        name: 'alert_rules',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'name', type: 'varchar', length: '200' },
          { name: 'enabled', type: 'boolean', default: pg ? 'true' : '1' },
          { name: 'severity', type: 'varchar', length: '16' },
          { name: 'cooldown_seconds', type: 'integer', default: 0 },
          { name: 'conditions', type: 'text' },
          { name: 'created_at', type: 'bigint' },
          { name: 'updated_at', type: 'bigint' },
        ],
      }),
    );
    // Created "at 0": a rule applies to records stored after its creation, and these continue the watch-list
    // alerts, so events of records stored before the upgrade and not yet relayed still raise them.
    const now = 0;
    for (const r of DEFAULT_ALERT_RULES) {
      await q.query(
        `INSERT INTO alert_rules (id, name, enabled, severity, cooldown_seconds, conditions, created_at, updated_at)
         VALUES (${p(1)}, ${p(2)}, ${pg ? 'TRUE' : '1'}, ${p(3)}, 0, ${p(4)}, ${p(5)}, ${p(6)})`,
        [r.id, r.name, r.severity, JSON.stringify(r.conditions), now, now],
      );
    }

    await q.addColumns('alerts', [
      new TableColumn({ name: 'rule_id', type: 'varchar', length: '36', isNullable: true }),
      new TableColumn({ name: 'rule_name', type: 'varchar', length: '200', isNullable: true }),
      new TableColumn({ name: 'severity', type: 'varchar', length: '16', isNullable: true }),
      new TableColumn({ name: 'state', type: 'varchar', length: '16', default: "'open'" }),
      new TableColumn({ name: 'person_id', type: 'varchar', length: '64', isNullable: true }),
      new TableColumn({ name: 'cooldown_key', type: 'varchar', length: '80', isNullable: true }),
      new TableColumn({ name: 'acknowledged_at', type: 'bigint', isNullable: true }),
      new TableColumn({ name: 'acknowledged_by', type: 'varchar', length: '200', isNullable: true }),
      new TableColumn({ name: 'acknowledge_comment', type: 'varchar', length: '1000', isNullable: true }),
    ]);
    for (const r of DEFAULT_ALERT_RULES) {
      await q.query(`UPDATE alerts SET rule_id = ${p(1)}, rule_name = ${p(2)}, severity = ${p(3)} WHERE kind = ${p(4)}`, [
        r.id,
        r.name,
        r.severity,
        r.kind,
      ]);
    }
    await q.query(`UPDATE alerts SET person_id = identity_id,
      cooldown_key = CASE WHEN identity_id IS NULL THEN 'none' ELSE 'person:' || identity_id END`);
    await q.query(`DELETE FROM alerts WHERE rule_id IS NULL`);
    await q.dropIndex('alerts', 'uq_alerts_record_kind');
    await q.dropColumn('alerts', 'kind');
    for (const name of ['rule_id', 'rule_name', 'severity', 'cooldown_key']) {
      const table = (await q.getTable('alerts'))!;
      const column = table.findColumnByName(name)!;
      const notNull = column.clone();
      notNull.isNullable = false;
      await q.changeColumn('alerts', column, notNull);
    }
    await q.createIndices('alerts', [
      new TableIndex({ name: 'uq_alerts_rule_record', columnNames: ['rule_id', 'record_id'], isUnique: true }),
      new TableIndex({ name: 'ix_alerts_created', columnNames: ['created_at', 'id'] }),
      new TableIndex({ name: 'ix_alerts_cooldown', columnNames: ['rule_id', 'cooldown_key', 'media_device_id', 'occurred_at'] }),
    ]);
  }

  async down(q: QueryRunner): Promise<void> {
    const pg = q.connection.options.type === 'postgres';
    const p = (n: number) => (pg ? `$${n}` : '?');
    for (const name of ['uq_alerts_rule_record', 'ix_alerts_created', 'ix_alerts_cooldown']) await q.dropIndex('alerts', name);
    await q.addColumn('alerts', new TableColumn({ name: 'kind', type: 'varchar', length: '32', isNullable: true }));
    for (const r of DEFAULT_ALERT_RULES) await q.query(`UPDATE alerts SET kind = ${p(1)} WHERE rule_id = ${p(2)}`, [r.kind, r.id]);
    // Alerts of rules an admin added have no kind in the old schema.
    await q.query(`DELETE FROM alerts WHERE kind IS NULL`);
    for (const name of [
      'rule_id',
      'rule_name',
      'severity',
      'state',
      'person_id',
      'cooldown_key',
      'acknowledged_at',
      'acknowledged_by',
      'acknowledge_comment',
    ])
      await q.dropColumn('alerts', name);
    const table = (await q.getTable('alerts'))!;
    const kind = table.findColumnByName('kind')!;
    const notNull = kind.clone();
    notNull.isNullable = false;
    await q.changeColumn('alerts', kind, notNull);
    await q.createIndex('alerts', new TableIndex({ name: 'uq_alerts_record_kind', columnNames: ['record_id', 'kind'], isUnique: true }));
    await q.dropTable('alert_rules');
  }
}
