import { DataSource, MigrationExecutor } from 'typeorm';
import type { DatabaseSettings } from '../config/app-config.service';
import { buildDataSourceOptions } from './data-source-options';

/** PostgreSQL advisory lock key of schema migrations (any constant; this one is "rhmg" in ASCII). */
const MIGRATION_LOCK_KEY = 0x72686d67;

/**
 * Applies pending migrations. On PostgreSQL, several instances may start at once against one database: each
 * takes a session advisory lock first, on the connection that then runs the migrations, so one migrates while
 * the others wait and then find nothing left to do (without it they race on creating the migrations table and
 * one fails). Each migration runs in its own transaction.
 */
export async function runMigrations(ds: DataSource): Promise<void> {
  if (ds.options.type !== 'postgres') {
    await ds.runMigrations({ transaction: 'each' });
    return;
  }
  const runner = ds.createQueryRunner();
  await runner.connect();
  try {
    await runner.query(`SELECT pg_advisory_lock(${MIGRATION_LOCK_KEY})`);
    try {
      const executor = new MigrationExecutor(ds, runner);
      executor.transaction = 'each';
      await executor.executePendingMigrations();
    } finally {
      await runner.query(`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY})`);
    }
  } finally {
    await runner.release();
  }
}

/** Opens a data source and applies pending migrations when asked; closes it again if that fails. */
export async function openDataSource(ds: DataSource, migrate: boolean): Promise<DataSource> {
  if (!ds.isInitialized) await ds.initialize();
  if (!migrate) return ds;
  try {
    await runMigrations(ds);
  } catch (e) {
    await ds.destroy();
    throw e;
  }
  return ds;
}

/**
 * Applies pending migrations on a connection of their own, then closes it. A migration may rightly take longer than
 * DB_STATEMENT_TIMEOUT_MS (an index on a large table), so that connection has no statement timeout.
 */
export async function migrateDatabase(db: DatabaseSettings): Promise<void> {
  const settings: DatabaseSettings =
    db.kind === 'postgres' ? { ...db, poolSize: 1, ...(db.timeouts && { timeouts: { ...db.timeouts, statementMs: 0 } }) } : db;
  // Migrations speak SQL through the query runner: no entity is needed.
  const ds = await openDataSource(new DataSource(buildDataSourceOptions(settings, [])), true);
  await ds.destroy();
}
