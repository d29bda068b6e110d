import './threadpool';
import 'reflect-metadata';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseEnv } from 'node:util';
import { Logger } from '@nestjs/common';
import cluster from 'node:cluster';
import { ClusterPrimary, MIGRATE_ONLY_VARIABLE, WORKER_ID_VARIABLE, workerCount } from './cluster';
import { AppConfig, databaseSettings } from './config/app-config.service';
import { ConfigurationError, environmentProblems, validateEnvironment } from './config/environment';

/** The environment as the config module will see it: `.env` in the working directory, overridden by the process. */
function rawEnvironment(): Record<string, unknown> {
  const file = path.resolve('.env');
  const fromFile = fs.existsSync(file) ? parseEnv(fs.readFileSync(file, 'utf8')) : {};
  return { ...fromFile, ...process.env };
}

function exitWith(lines: string[]): never {
  for (const line of lines) console.error(line);
  process.exit(1);
}

async function main(): Promise<void> {
  // Checked before Nest starts, so a bad value is one line naming the variable, not a stack trace.
  const raw = rawEnvironment();
  const problems = environmentProblems(raw);
  if (problems.length > 0) exitWith(problems);
  const warnings: string[] = [];
  if (process.env[MIGRATE_ONLY_VARIABLE] === '1') return migrateOnly();
  if (cluster.isPrimary) {
    // WEB_CONCURRENCY > 1: this process only migrates and supervises; the workers (this file again) serve HTTP.
    const env = validateEnvironment(raw);
    const workers = workerCount(env, (m) => warnings.push(m));
    if (workers > 1) return new ClusterPrimary(env, workers).run();
  } else {
    // Ctrl-C reaches the workers from the terminal and again from the primary: the second signal must not kill a
    // worker in the middle of its graceful shutdown (Nest stops listening after the first).
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => undefined);
  }
  // Loaded here, not at the top: a cluster primary never builds the app, and stays small without it.
  const { createApp } = await import('./bootstrap.js');
  const app = await createApp();
  for (const warning of warnings) Logger.warn(warning, 'Main');
  const config = app.get(AppConfig);
  await app.listen(config.get('PORT'), config.get('HOST'));
  const db = config.database;
  Logger.log(
    `Recognition Hub listening on ${await app.getUrl()} (${db.kind === 'sqlite' ? `SQLite ${db.path}` : 'PostgreSQL'}, images in ${config.imageDir})` +
      (cluster.isWorker ? `, worker ${process.env[WORKER_ID_VARIABLE]}` : ''),
    'Main',
  );
}

/** The cluster primary's migration step, in a process of its own so the primary never loads TypeORM. */
async function migrateOnly(): Promise<void> {
  const env = validateEnvironment(rawEnvironment());
  const { migrateDatabase } = await import('./database/migrate.js');
  await migrateDatabase(
    databaseSettings(env.DATABASE_URL, path.resolve(env.DATA_DIR), env.SQLITE_PATH, env.DB_POOL_SIZE, {
      connectMs: env.DB_CONNECT_TIMEOUT_MS,
      statementMs: env.DB_STATEMENT_TIMEOUT_MS,
    }),
  );
  process.exit(0);
}

main().catch((e) => {
  // Configuration errors and failed migrations end here: say why and exit non-zero.
  exitWith(e instanceof ConfigurationError ? e.problems : [e instanceof Error ? e.message : String(e)]);
});
