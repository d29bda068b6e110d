import { MigrationInterface, QueryRunner, Table } from 'typeorm';

/**
 * Persons (src/persons): identities that are one human, their sightings, link suggestions and operators'
 * decisions. Every existing identity becomes its own person (person id = identity id), with its sightings and
 * its first face vector (first face-library face, else first record with a feature) for linking later ones.
 * Existing identities are not linked to each other here: linking runs for identities that get their first face
 * from now on, and compares them with all of these.
 */
export class Persons1765100000000 implements MigrationInterface {
  name = 'Persons1765100000000';

  async up(q: QueryRunner): Promise<void> {
    const pg = q.connection.options.type === 'postgres';
    const blob = pg ? 'bytea' : 'blob';
    await q.createTable(
      new Table({
        name: 'persons',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'created_at', type: 'bigint' },
          { name: 'updated_at', type: 'bigint' },
          { name: 'first_seen_at', type: 'bigint', isNullable: true },
          { name: 'last_seen_at', type: 'bigint' },
          { name: 'last_record_id', type: 'varchar', length: '36', isNullable: true },
          { name: 'last_box_id', type: 'varchar', length: '36', isNullable: true },
          { name: 'last_media_device_id', type: 'varchar', length: '36', isNullable: true },
          { name: 'last_user_type', type: 'varchar', length: '32', isNullable: true },
        ],
        indices: [
          { name: 'ix_persons_last_seen', columnNames: ['last_seen_at', 'id'] },
          { name: 'ix_persons_last_user_type', columnNames: ['last_user_type'] },
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'person_identities',
        columns: [
          { name: 'identity_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'person_id', type: 'varchar', length: '36' },
          { name: 'linked_at', type: 'bigint' },
          { name: 'link_reason', type: 'varchar', length: '32' },
          { name: 'similarity', type: 'double precision', isNullable: true },
          { name: 'feature', type: blob, isNullable: true },
          { name: 'ref_seq', type: 'bigint', isNullable: true },
        ],
        indices: [
          { name: 'ix_person_identities_person', columnNames: ['person_id'] },
          { name: 'ix_person_identities_ref_seq', columnNames: ['ref_seq'] },
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'identity_sightings',
        columns: [
          { name: 'identity_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'media_device_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'box_id', type: 'varchar', length: '36' },
          { name: 'first_seen_at', type: 'bigint' },
          { name: 'last_seen_at', type: 'bigint' },
          { name: 'last_record_id', type: 'varchar', length: '36' },
          { name: 'last_user_type', type: 'varchar', length: '32', isNullable: true },
        ],
        indices: [{ name: 'ix_identity_sightings_last_seen', columnNames: ['last_seen_at'] }],
      }),
    );
    await q.createTable(
      new Table({
        name: 'person_suggestions',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'person_id', type: 'varchar', length: '36' },
          { name: 'identity_id', type: 'varchar', length: '36' },
          { name: 'similarity', type: 'double precision' },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'created_at', type: 'bigint' },
          { name: 'decided_at', type: 'bigint', isNullable: true },
          { name: 'decided_by', type: 'varchar', length: '200', isNullable: true },
        ],
        indices: [
          { name: 'uq_person_suggestions_pair', columnNames: ['person_id', 'identity_id'], isUnique: true },
          { name: 'ix_person_suggestions_identity', columnNames: ['identity_id'] },
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'person_decisions',
        columns: [
          { name: 'identity_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'other_identity_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'decision', type: 'varchar', length: '16' },
          { name: 'decided_by', type: 'varchar', length: '200' },
          { name: 'decided_at', type: 'bigint' },
        ],
      }),
    );

    const now = Date.now();
    // One person per live identity (merged ones are aliases), with the same id.
    await q.query(
      `INSERT INTO person_identities (identity_id, person_id, linked_at, link_reason)
       SELECT id, id, ${now}, 'own' FROM identities WHERE merged_into_id IS NULL`,
    );
    // Latest and first sighting per identity and media device, from the records.
    await q.query(
      `INSERT INTO identity_sightings (identity_id, media_device_id, box_id, first_seen_at, last_seen_at, last_record_id, last_user_type)
       SELECT identity_id, media_device_id, box_id, first_seen_at, occurred_at, id, user_type FROM (
         SELECT r.identity_id, r.media_device_id, r.box_id, r.occurred_at, r.id, r.user_type,
                MIN(r.occurred_at) OVER (PARTITION BY r.identity_id, r.media_device_id) AS first_seen_at,
                ROW_NUMBER() OVER (PARTITION BY r.identity_id, r.media_device_id ORDER BY r.occurred_at DESC, r.id DESC) AS rn
         FROM recognition_records r JOIN person_identities pi ON pi.identity_id = r.identity_id
       ) s WHERE rn = 1`,
    );
    await q.query(
      `INSERT INTO persons (id, created_at, updated_at, first_seen_at, last_seen_at, last_record_id, last_box_id, last_media_device_id, last_user_type)
       SELECT pi.person_id, ${now}, ${now}, l.first_seen_at, COALESCE(l.last_seen_at, 0), l.last_record_id, l.box_id, l.media_device_id, l.last_user_type
       FROM person_identities pi LEFT JOIN (
         SELECT identity_id, box_id, media_device_id, last_seen_at, last_record_id, last_user_type,
                MIN(first_seen_at) OVER (PARTITION BY identity_id) AS first_seen_at,
                ROW_NUMBER() OVER (PARTITION BY identity_id ORDER BY last_seen_at DESC, last_record_id DESC) AS rn
         FROM identity_sightings
       ) l ON l.identity_id = pi.identity_id AND l.rn = 1`,
    );
    // First face vector: the oldest face-library face with a feature, else the oldest record with one.
    // Only well-formed vectors (512 float32) are taken; the service re-checks them for NaN and zero length.
    const len = pg ? 'octet_length' : 'length';
    await q.query(
      `UPDATE person_identities SET feature = (
         SELECT f.feature FROM faces f WHERE f.identity_id = person_identities.identity_id AND f.feature IS NOT NULL AND ${len}(f.feature) = 2048
         ORDER BY f.captured_at, f.source_record_id LIMIT 1)`,
    );
    await q.query(
      `UPDATE person_identities SET feature = (
         SELECT r.feature FROM recognition_records r WHERE r.identity_id = person_identities.identity_id AND r.feature IS NOT NULL
           AND ${len}(r.feature) = 2048
         ORDER BY r.occurred_at, r.id LIMIT 1)
       WHERE feature IS NULL`,
    );
    await q.query(
      `UPDATE person_identities SET ref_seq = s.rn
       FROM (SELECT identity_id, ROW_NUMBER() OVER (ORDER BY identity_id) AS rn FROM person_identities WHERE feature IS NOT NULL) s
       WHERE s.identity_id = person_identities.identity_id`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['person_decisions', 'person_suggestions', 'identity_sightings', 'person_identities', 'persons']) await q.dropTable(t);
  }
}
