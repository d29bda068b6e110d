import { MigrationInterface, QueryRunner, TableIndex } from 'typeorm';

/** One current face per identity (partial unique index; SQLite and PostgreSQL both support it). */
export class FaceLibraryCurrent1764400000000 implements MigrationInterface {
  name = 'FaceLibraryCurrent1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createIndex(
      'faces',
      new TableIndex({ name: 'uq_faces_identity_current', columnNames: ['identity_id'], isUnique: true, where: 'is_current' }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('faces', 'uq_faces_identity_current');
  }
}
