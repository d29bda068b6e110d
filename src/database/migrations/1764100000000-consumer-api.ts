import { MigrationInterface, QueryRunner, Table, TableColumn, TableIndex } from 'typeorm';

/**
 * API keys and the audit log for REST consumers, the indexes the record filters need, and when an
 * operator last edited an identity (pushes no longer overwrite what they set) and which identity a merged
 * one now points to.
 */
export class ConsumerApi1764100000000 implements MigrationInterface {
  name = 'ConsumerApi1764100000000';

  async up(q: QueryRunner): Promise<void> {
    const pg = q.connection.options.type === 'postgres';
    await q.createTable(
      new Table({
        name: 'api_keys',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'name', type: 'varchar', length: '200' },
          { name: 'role', type: 'varchar', length: '32' },
          { name: 'key_hash', type: 'varchar', length: '64' },
          { name: 'key_prefix', type: 'varchar', length: '16' },
          { name: 'created_by', type: 'varchar', length: '200', isNullable: true },
          { name: 'created_at', type: 'bigint' },
          { name: 'last_used_at', type: 'bigint', isNullable: true },
          { name: 'revoked_at', type: 'bigint', isNullable: true },
        ],
        indices: [{ name: 'uq_api_keys_key_hash', columnNames: ['key_hash'], isUnique: true }],
      }),
    );
    await q.createTable(
      new Table({
        name: 'audit_log',
        columns: [
          { name: 'id', type: pg ? 'bigint' : 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'at', type: 'bigint' },
          { name: 'actor', type: 'varchar', length: '200' },
          { name: 'action', type: 'varchar', length: '64' },
          { name: 'subject_type', type: 'varchar', length: '64' },
          { name: 'subject_id', type: 'varchar', length: '128' },
          { name: 'details', type: 'text', isNullable: true },
        ],
        indices: [
          { name: 'ix_audit_log_subject', columnNames: ['subject_type', 'subject_id'] },
          { name: 'ix_audit_log_at', columnNames: ['at'] },
        ],
      }),
    );
    await q.addColumns('identities', [
      new TableColumn({ name: 'edited_at', type: 'bigint', isNullable: true }),
      new TableColumn({ name: 'merged_into_id', type: 'varchar', length: '36', isNullable: true }),
    ]);
    await q.createIndex('recognition_records', new TableIndex({ name: 'ix_records_box_occurred', columnNames: ['box_id', 'occurred_at'] }));
    await q.createIndex(
      'recognition_records',
      new TableIndex({ name: 'ix_records_user_type_occurred', columnNames: ['user_type', 'occurred_at'] }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('recognition_records', 'ix_records_user_type_occurred');
    await q.dropIndex('recognition_records', 'ix_records_box_occurred');
    await q.dropColumns('identities', ['merged_into_id', 'edited_at']);
    await q.dropTable('audit_log');
    await q.dropTable('api_keys');
  }
}
