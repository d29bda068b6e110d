import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from '../src/database/data-source-options';
import { entities } from '../src/entities';
import { databaseSettings } from '../src/config/app-config.service';
import { createTestDatabase, describeDb, openDataSource, TestDatabase } from './helpers/test-database';

describeDb('migrations', () => {
  let db: TestDatabase;
  let ds: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase();
    ds = await openDataSource(db);
  });
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('build exactly the schema the entities describe (no drift)', async () => {
    await ds.runMigrations();
    const pending = await ds.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('revert cleanly and apply again', async () => {
    await ds.undoLastMigration();
    expect(await ds.showMigrations()).toBe(true);
    await ds.runMigrations();
    expect(await ds.showMigrations()).toBe(false);
  });
});

describeDb('migration BoxTimestamp', () => {
  let db: TestDatabase;

  afterAll(async () => {
    await db?.drop();
  });

  it('fills box_timestamp (the dedup key) of existing records from occurred_at, and reverts', async () => {
    db = await createTestDatabase();
    const options = buildDataSourceOptions(databaseSettings(db.env.DATABASE_URL, db.dataDir, undefined, 2), entities);
    const all = options.migrations as { name: string }[];
    const at = all.findIndex((m) => m.name === 'BoxTimestamp1764700000000');
    const before = new DataSource({ ...options, migrations: all.slice(0, at) } as typeof options);
    await before.initialize();
    await before.runMigrations();
    const yes = before.options.type === 'postgres' ? 'true' : '1';
    await before.query(`INSERT INTO boxes (id, license_key, enabled, first_seen_at, last_seen_at) VALUES ('b1', 'K', ${yes}, 1, 1)`);
    await before.query(`INSERT INTO media_devices (id, box_id, device_id, first_seen_at, last_seen_at) VALUES ('m1', 'b1', 'cam', 1, 1)`);
    await before.query(
      `INSERT INTO recognition_records (id, box_id, media_device_id, device_external_id, identity_external_id, occurred_at, defects, received_at)
       VALUES ('r1', 'b1', 'm1', 'cam', '', 1700000000000, '[]', 1)`,
    );
    await before.destroy();

    const after = new DataSource({ ...options, migrations: all.slice(0, at + 1) } as typeof options);
    await after.initialize();
    try {
      await after.runMigrations();
      const rows = await after.query('SELECT id, box_timestamp FROM recognition_records');
      expect(rows.map((r: { id: string; box_timestamp: unknown }) => [r.id, Number(r.box_timestamp)])).toEqual([['r1', 1700000000000]]);
      await after.undoLastMigration();
      expect(Number((await after.query('SELECT COUNT(*) AS n FROM recognition_records'))[0].n)).toBe(1);
    } finally {
      await after.destroy();
    }
  });
});
