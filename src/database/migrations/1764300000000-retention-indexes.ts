import { MigrationInterface, QueryRunner, TableIndex } from 'typeorm';

/**
 * Indexes retention and erasure rely on: finding whether any record or face still references an image,
 * and the outbox rows of deleted records.
 */
const INDEXES: [table: string, name: string, column: string][] = [
  ['recognition_records', 'ix_records_reg_image', 'reg_image_sha256'],
  ['recognition_records', 'ix_records_spot_image', 'spot_image_sha256'],
  ['recognition_records', 'ix_records_ir_image', 'ir_image_sha256'],
  ['recognition_records', 'ix_records_face_image', 'face_image_sha256'],
  ['faces', 'ix_faces_image', 'image_sha256'],
  ['outbox_events', 'ix_outbox_aggregate', 'aggregate_id'],
];

export class RetentionIndexes1764300000000 implements MigrationInterface {
  name = 'RetentionIndexes1764300000000';

  async up(q: QueryRunner): Promise<void> {
    for (const [table, name, column] of INDEXES) await q.createIndex(table, new TableIndex({ name, columnNames: [column] }));
  }

  async down(q: QueryRunner): Promise<void> {
    for (const [table, name] of [...INDEXES].reverse()) await q.dropIndex(table, name);
  }
}
