import { MigrationInterface, QueryRunner, Table } from 'typeorm';

/** Outbound webhooks (src/integrations): subscriptions, one delivery per subscription and event, every attempt. */
export class Integrations1764600000000 implements MigrationInterface {
  name = 'Integrations1764600000000';

  async up(q: QueryRunner): Promise<void> {
    const pg = q.connection.options.type === 'postgres';
    await q.createTable(
      new Table({
        name: 'webhook_subscriptions',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'url', type: 'varchar', length: '2000' },
          { name: 'event_types', type: 'text' },
          { name: 'secret', type: 'varchar', length: '128' },
          { name: 'description', type: 'varchar', length: '200', isNullable: true },
          { name: 'enabled', type: 'boolean', default: pg ? 'true' : '1' },
          { name: 'start_after_event_id', type: 'bigint' },
          { name: 'created_at', type: 'bigint' },
          { name: 'updated_at', type: 'bigint' },
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'webhook_deliveries',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'subscription_id', type: 'varchar', length: '36' },
          { name: 'event_id', type: 'bigint' },
          { name: 'event_type', type: 'varchar', length: '64' },
          { name: 'payload', type: 'text' },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'attempts', type: 'integer', default: 0 },
          { name: 'next_attempt_at', type: 'bigint' },
          { name: 'claimed_by', type: 'varchar', length: '64', isNullable: true },
          { name: 'claimed_until', type: 'bigint', isNullable: true },
          { name: 'last_status_code', type: 'integer', isNullable: true },
          { name: 'last_error', type: 'text', isNullable: true },
          { name: 'created_at', type: 'bigint' },
          { name: 'completed_at', type: 'bigint', isNullable: true },
        ],
        indices: [
          { name: 'uq_webhook_deliveries_sub_event', columnNames: ['subscription_id', 'event_id'], isUnique: true },
          { name: 'ix_webhook_deliveries_due', columnNames: ['status', 'next_attempt_at'] },
          { name: 'ix_webhook_deliveries_sub_status', columnNames: ['subscription_id', 'status', 'event_id'] },
        ],
        foreignKeys: [
          {
            columnNames: ['subscription_id'],
            referencedTableName: 'webhook_subscriptions',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          },
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'webhook_delivery_attempts',
        columns: [
          { name: 'id', type: pg ? 'bigint' : 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'delivery_id', type: 'varchar', length: '36' },
          { name: 'attempt', type: 'integer' },
          { name: 'started_at', type: 'bigint' },
          { name: 'duration_ms', type: 'integer' },
          { name: 'status_code', type: 'integer', isNullable: true },
          { name: 'error', type: 'text', isNullable: true },
          { name: 'succeeded', type: 'boolean' },
        ],
        indices: [{ name: 'ix_webhook_attempts_delivery', columnNames: ['delivery_id', 'attempt'] }],
        foreignKeys: [
          { columnNames: ['delivery_id'], referencedTableName: 'webhook_deliveries', referencedColumnNames: ['id'], onDelete: 'CASCADE' },
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['webhook_delivery_attempts', 'webhook_deliveries', 'webhook_subscriptions']) await q.dropTable(t);
  }
}
