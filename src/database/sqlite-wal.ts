import type { Database } from 'better-sqlite3';
import { DataSource } from 'typeorm';

/** The database file of an SQLite data source in WAL mode; null for PostgreSQL, in-memory databases or other modes. */
export async function sqliteWalDatabaseFile(dataSource: DataSource): Promise<string | null> {
  if (dataSource.options.type !== 'better-sqlite3') return null;
  const file = dataSource.options.database;
  if (typeof file !== 'string' || file === '' || file === ':memory:') return null;
  const [{ journal_mode: mode }] = await dataSource.query('PRAGMA journal_mode');
  return String(mode).toLowerCase() === 'wal' ? file : null;
}

/** The better-sqlite3 connection under TypeORM's single SQLite query runner (its own transaction flag, pragmas). */
export function sqliteConnection(dataSource: DataSource): Database {
  return (dataSource.driver as unknown as { databaseConnection: Database }).databaseConnection;
}
