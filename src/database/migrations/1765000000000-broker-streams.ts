import { MigrationInterface, QueryRunner, Table } from 'typeorm';

/** One row per message-broker stream (src/brokers): its outbox cursor and the lease of the instance publishing it. */
export class BrokerStreams1765000000000 implements MigrationInterface {
  name = 'BrokerStreams1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'broker_streams',
        columns: [
          { name: 'name', type: 'varchar', length: '32', isPrimary: true },
          { name: 'last_event_id', type: 'bigint' },
          { name: 'lease_owner', type: 'varchar', length: '64', isNullable: true },
          { name: 'lease_until', type: 'bigint', isNullable: true },
          { name: 'updated_at', type: 'bigint' },
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('broker_streams');
  }
}
