import { MigrationInterface, QueryRunner, Table, TableColumnOptions, TableIndex } from 'typeorm';

const id = (): TableColumnOptions => ({ name: 'id', type: 'varchar', length: '36', isPrimary: true });
const ms = (name: string, isNullable = false): TableColumnOptions => ({ name, type: 'bigint', isNullable });
const str = (name: string, length: number, isNullable = true): TableColumnOptions => ({
  name,
  type: 'varchar',
  length: String(length),
  isNullable,
});
const json = (name: string, isNullable = true): TableColumnOptions => ({ name, type: 'text', isNullable });

export class InitialSchema1764043200000 implements MigrationInterface {
  name = 'InitialSchema1764043200000';

  async up(q: QueryRunner): Promise<void> {
    const pg = q.connection.options.type === 'postgres';
    const binary = pg ? 'bytea' : 'blob';
    const bigSerial = pg ? 'bigint' : 'integer';
    const bool = (name: string, value: boolean): TableColumnOptions => ({
      name,
      type: 'boolean',
      default: pg ? String(value) : value ? '1' : '0',
    });

    await q.createTable(
      new Table({
        name: 'boxes',
        columns: [
          id(),
          str('license_key', 128, false),
          str('name', 200),
          bool('enabled', true),
          str('api_version', 16),
          str('last_address', 64),
          ms('first_seen_at'),
          ms('last_seen_at'),
        ],
        indices: [{ name: 'uq_boxes_license_key', columnNames: ['license_key'], isUnique: true }],
      }),
    );

    await q.createTable(
      new Table({
        name: 'media_devices',
        columns: [
          id(),
          str('box_id', 36, false),
          str('device_id', 128, false),
          str('type', 32),
          str('ip', 64),
          str('name', 200),
          str('url', 1000),
          ms('first_seen_at'),
          ms('last_seen_at'),
        ],
        indices: [{ name: 'uq_media_devices_box_device', columnNames: ['box_id', 'device_id'], isUnique: true }],
        foreignKeys: [{ columnNames: ['box_id'], referencedTableName: 'boxes', referencedColumnNames: ['id'], onDelete: 'CASCADE' }],
      }),
    );

    await q.createTable(
      new Table({
        name: 'identities',
        columns: [
          id(),
          str('external_id', 128, false),
          str('name', 200),
          str('user_type', 32),
          ms('first_seen_at'),
          ms('last_seen_at'),
          ms('updated_at'),
        ],
        indices: [
          { name: 'uq_identities_external_id', columnNames: ['external_id'], isUnique: true },
          { name: 'ix_identities_user_type', columnNames: ['user_type'] },
        ],
      }),
    );

    await q.createTable(
      new Table({
        name: 'faces',
        columns: [
          id(),
          str('identity_id', 36, false),
          str('source_record_id', 36, false),
          str('source', 32, false),
          str('image_sha256', 64),
          { name: 'feature', type: binary, isNullable: true },
          bool('is_current', false),
          ms('captured_at'),
          ms('created_at'),
        ],
        indices: [
          { name: 'uq_faces_identity_source_record', columnNames: ['identity_id', 'source_record_id'], isUnique: true },
          { name: 'ix_faces_identity', columnNames: ['identity_id'] },
        ],
        foreignKeys: [
          { columnNames: ['identity_id'], referencedTableName: 'identities', referencedColumnNames: ['id'], onDelete: 'CASCADE' },
        ],
      }),
    );

    await q.createTable(
      new Table({
        name: 'stored_images',
        columns: [
          { name: 'sha256', type: 'varchar', length: '64', isPrimary: true },
          str('content_type', 64, false),
          { name: 'byte_size', type: 'integer' },
          ms('created_at'),
        ],
      }),
    );

    await q.createTable(
      new Table({
        name: 'recognition_records',
        columns: [
          id(),
          str('box_id', 36, false),
          str('media_device_id', 36, false),
          str('device_external_id', 128, false),
          str('identity_id', 36),
          str('identity_external_id', 128, false),
          str('identity_name', 200),
          str('user_type', 32),
          ms('occurred_at'),
          ms('entered_at', true),
          ms('left_at', true),
          { name: 'score_raw', type: 'double precision', isNullable: true },
          { name: 'score', type: 'double precision', isNullable: true },
          str('post_action', 16),
          str('api_version', 16),
          json('attributes'),
          json('landmarks'),
          json('face_box'),
          { name: 'feature', type: binary, isNullable: true },
          str('reg_image_sha256', 64),
          str('spot_image_sha256', 64),
          str('ir_image_sha256', 64),
          str('face_image_sha256', 64),
          json('defects', false),
          bool('has_defects', false),
          json('extra'),
          str('source_address', 64),
          ms('received_at'),
        ],
        indices: [
          {
            name: 'uq_records_event',
            columnNames: ['box_id', 'device_external_id', 'identity_external_id', 'occurred_at'],
            isUnique: true,
          },
          { name: 'ix_records_occurred', columnNames: ['occurred_at', 'id'] },
          { name: 'ix_records_device_occurred', columnNames: ['media_device_id', 'occurred_at'] },
          { name: 'ix_records_identity_occurred', columnNames: ['identity_id', 'occurred_at'] },
          { name: 'ix_records_has_defects', columnNames: ['has_defects'] },
        ],
        foreignKeys: [
          { columnNames: ['box_id'], referencedTableName: 'boxes', referencedColumnNames: ['id'], onDelete: 'CASCADE' },
          { columnNames: ['media_device_id'], referencedTableName: 'media_devices', referencedColumnNames: ['id'], onDelete: 'CASCADE' },
          { columnNames: ['identity_id'], referencedTableName: 'identities', referencedColumnNames: ['id'], onDelete: 'SET NULL' },
        ],
      }),
    );

    await q.createTable(
      new Table({
        name: 'outbox_events',
        columns: [
          { name: 'id', type: bigSerial, isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          str('type', 64, false),
          str('aggregate_id', 64, false),
          json('payload', false),
          ms('created_at'),
          ms('available_at'),
          { name: 'attempts', type: 'integer', default: 0 },
          { name: 'last_error', type: 'text', isNullable: true },
          str('claimed_by', 64),
          ms('claimed_until', true),
          ms('processed_at', true),
        ],
      }),
    );
    await q.createIndex('outbox_events', new TableIndex({ name: 'ix_outbox_due', columnNames: ['processed_at', 'available_at'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['outbox_events', 'recognition_records', 'stored_images', 'faces', 'identities', 'media_devices', 'boxes']) {
      await q.dropTable(t);
    }
  }
}
