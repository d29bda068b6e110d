import { MigrationInterface, QueryRunner, TableColumn, TableIndex } from 'typeorm';

const OLD_KEY = new TableIndex({
  name: 'uq_records_event',
  columnNames: ['box_id', 'device_external_id', 'identity_external_id', 'occurred_at'],
  isUnique: true,
});
const NEW_KEY = new TableIndex({
  name: 'uq_records_box_event',
  columnNames: ['box_id', 'device_external_id', 'identity_external_id', 'box_timestamp'],
  isUnique: true,
});

/**
 * Records keep the box's timestamp as sent (box_timestamp), and that is the dedup key: occurred_at becomes
 * the receive time when the box's clock is outside the accepted window, which differs on every retry.
 */
export class BoxTimestamp1764700000000 implements MigrationInterface {
  name = 'BoxTimestamp1764700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('recognition_records', new TableColumn({ name: 'box_timestamp', type: 'bigint', isNullable: true }));
    await q.query('UPDATE recognition_records SET box_timestamp = occurred_at');
    await q.createIndex('recognition_records', NEW_KEY);
    await q.dropIndex('recognition_records', OLD_KEY.name!);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.createIndex('recognition_records', OLD_KEY);
    await q.dropIndex('recognition_records', NEW_KEY.name!);
    await q.dropColumn('recognition_records', 'box_timestamp');
  }
}
