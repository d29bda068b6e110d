import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/** Per-box callback secret (stored as a sha256 hash) and allowed source networks. */
export class BoxAccess1764200000000 implements MigrationInterface {
  name = 'BoxAccess1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumns('boxes', [
      new TableColumn({ name: 'callback_token_hash', type: 'varchar', length: '64', isNullable: true }),
      new TableColumn({ name: 'allowed_networks', type: 'text', isNullable: true }),
    ]);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumns('boxes', ['allowed_networks', 'callback_token_hash']);
  }
}
