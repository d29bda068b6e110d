import 'reflect-metadata';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { databaseSettings } from '../config/app-config.service';
import { Environment, validateEnvironment } from '../config/environment';
import { buildDataSourceOptions, EntityList } from '../database/data-source-options';
import { openDataSource } from '../database/migrate';

/** `err` receives error lines (stderr for a process); tests pass `out` only and see both. */
export type CliMain = (
  args: string[],
  env: Record<string, unknown>,
  out: (line: string) => void,
  err?: (line: string) => void,
) => Promise<number>;

/**
 * Opens the database the server would use (same environment variables, pending migrations applied when
 * DB_MIGRATIONS_RUN is on), with the entities the command's module owns, runs the command, and closes it again.
 */
export async function withCliDatabase(
  env: Record<string, unknown>,
  entities: EntityList,
  work: (ds: DataSource, config: Environment) => Promise<number>,
): Promise<number> {
  const config = validateEnvironment(env);
  const ds = await openDataSource(
    new DataSource(
      buildDataSourceOptions(databaseSettings(config.DATABASE_URL, path.resolve(config.DATA_DIR), config.SQLITE_PATH, 2), entities),
    ),
    config.DB_MIGRATIONS_RUN,
  );
  try {
    return await work(ds, config);
  } finally {
    await ds.destroy();
  }
}

/** Runs a CLI entry point as a process: exit code from the command, message and 1 on an error. */
export function runCliProcess(main: CliMain): void {
  main(
    process.argv.slice(2),
    process.env,
    (line) => console.log(line),
    (line) => console.error(line),
  ).then(
    (code) => process.exit(code),
    (e) => {
      console.error(e instanceof Error ? e.message : e);
      process.exit(1);
    },
  );
}
