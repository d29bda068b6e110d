import { MigrationInterface, QueryRunner, Table } from 'typeorm';

/** Images a retention or erasure batch released, until they are deleted (src/images, crash safety). */
export class PendingImageReleases1765400000000 implements MigrationInterface {
  name = 'PendingImageReleases1765400000000';

  async up(q: QueryRunner): Promise<void> {
    const pg = q.connection.options.type === 'postgres';
    await q.createTable(
      new Table({
        name: 'pending_image_releases',
        columns: [
          { name: 'id', type: pg ? 'bigint' : 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'sha256s', type: 'text' },
          { name: 'created_at', type: 'bigint' },
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('pending_image_releases');
  }
}
