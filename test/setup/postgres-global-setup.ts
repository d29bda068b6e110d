import { Client } from 'pg';
import { adminDatabaseUrl } from '../helpers/test-database';

/**
 * PostgreSQL end-to-end tests need the server at TEST_DATABASE_URL (default 127.0.0.1:5432/test).
 * Under CI (CI=true) an unreachable server fails the run; on a developer machine without
 * PostgreSQL the suite is skipped with a warning, so `npm test` still works on SQLite alone.
 */
export default async function postgresGlobalSetup(): Promise<void> {
  const client = new Client({ connectionString: adminDatabaseUrl(), connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    process.env.TEST_POSTGRES_AVAILABLE = '1';
  } catch (e) {
    const message = `PostgreSQL is unreachable at ${adminDatabaseUrl()}: ${(e as Error).message}`;
    if (process.env.CI) throw new Error(`${message}. CI requires it (start it, or set TEST_DATABASE_URL).`);
    console.warn(`\n*** ${message}\n*** Skipping the PostgreSQL end-to-end tests (they are required when CI=true).\n`);
    process.env.TEST_POSTGRES_AVAILABLE = '0';
  } finally {
    await client.end().catch(() => undefined);
  }
}
