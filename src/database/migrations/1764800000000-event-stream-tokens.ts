import { MigrationInterface, QueryRunner, Table } from 'typeorm';

/** Short-lived tokens for event streams opened by browsers (src/integrations/event-stream). */
export class EventStreamTokens1764800000000 implements MigrationInterface {
  name = 'EventStreamTokens1764800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'event_stream_tokens',
        columns: [
          { name: 'token_hash', type: 'varchar', length: '64', isPrimary: true },
          { name: 'key_id', type: 'varchar', length: '64' },
          { name: 'role', type: 'varchar', length: '32' },
          { name: 'actor', type: 'varchar', length: '200' },
          { name: 'filter', type: 'text' },
          { name: 'created_at', type: 'bigint' },
          { name: 'expires_at', type: 'bigint' },
        ],
        indices: [{ name: 'ix_event_stream_tokens_expires', columnNames: ['expires_at'] }],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('event_stream_tokens');
  }
}
