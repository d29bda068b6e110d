import { MigrationInterface, QueryRunner, Table } from 'typeorm';

/** Watch-list alerts raised from domain events (src/alerts). */
export class Alerts1764400000001 implements MigrationInterface {
  name = 'Alerts1764400000001';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'alerts',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'kind', type: 'varchar', length: '32' },
          { name: 'event_id', type: 'bigint', isNullable: true },
          { name: 'record_id', type: 'varchar', length: '36' },
          { name: 'identity_id', type: 'varchar', length: '36', isNullable: true },
          { name: 'identity_external_id', type: 'varchar', length: '128' },
          { name: 'identity_name', type: 'varchar', length: '200', isNullable: true },
          { name: 'box_id', type: 'varchar', length: '36' },
          { name: 'media_device_id', type: 'varchar', length: '36' },
          { name: 'score', type: 'double precision', isNullable: true },
          { name: 'occurred_at', type: 'bigint' },
          { name: 'created_at', type: 'bigint' },
        ],
        indices: [
          { name: 'uq_alerts_record_kind', columnNames: ['record_id', 'kind'], isUnique: true },
          { name: 'ix_alerts_occurred', columnNames: ['occurred_at'] },
        ],
        foreignKeys: [
          { columnNames: ['record_id'], referencedTableName: 'recognition_records', referencedColumnNames: ['id'], onDelete: 'CASCADE' },
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('alerts');
  }
}
