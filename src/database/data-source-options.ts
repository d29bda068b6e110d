import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { DataSourceOptions, EntitySchema } from 'typeorm';
import type { DatabaseSettings, DatabaseTimeouts } from '../config/app-config.service';
import { DatabaseLogger } from './typeorm-logger';
import { usePortableColumnTypesFor } from './portable-columns';
import { migrations } from './migrations';

/** Entity classes, as TypeORM takes them. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export type EntityList = (Function | EntitySchema)[];

/**
 * One place that turns settings into TypeORM options, used by the app, ormconfig.ts, the CLIs and tests. The entities
 * come from the caller: the app's full list is composed at the top (src/entities.ts), a CLI names its module's own,
 * and migrations need none (they speak SQL), so this module below every other imports none of theirs.
 */
export function buildDataSourceOptions(
  db: DatabaseSettings,
  entities: EntityList,
  overrides: { migrationsRun?: boolean } = {},
): DataSourceOptions {
  usePortableColumnTypesFor(db.kind);
  const common = {
    entities,
    migrations,
    migrationsRun: overrides.migrationsRun ?? false,
    synchronize: false,
    logging: ['error', 'warn', 'migration'] as ('error' | 'warn' | 'migration')[],
    // JSON lines without query parameters (src/database/typeorm-logger.ts).
    logger: new DatabaseLogger(),
  };
  if (db.kind === 'postgres') {
    return {
      ...common,
      type: 'postgres',
      url: db.url,
      poolSize: db.poolSize,
      migrationsTransactionMode: 'each',
      ...(db.timeouts && postgresTimeouts(db.timeouts)),
    };
  }
  fs.mkdirSync(path.dirname(db.path), { recursive: true });
  return {
    ...common,
    type: 'better-sqlite3',
    database: db.path,
    // WAL lets readers run beside the single writer. An acknowledged record must survive a power loss, so the
    // WAL is fsynced after every commit: not by SQLite (synchronous=FULL would do it on the event loop, stalling
    // the server for each fsync) but by UnitOfWork on the thread pool, once per group of commits, before any of
    // their callers is answered. Writes through UnitOfWork.run() get that guarantee.
    enableWAL: true,
    prepareDatabase: (conn: { pragma: (s: string) => unknown }) => {
      conn.pragma('busy_timeout = 5000');
      conn.pragma('synchronous = NORMAL');
      conn.pragma('foreign_keys = ON');
      // Statement journals of the group commit's savepoints stay in memory instead of temp files.
      conn.pragma('temp_store = MEMORY');
      // Deleted content (an erased person's feature vectors, image hashes) is zeroed, not left in free space
      // and freed pages: ON, not FAST, because FAST leaves freed (overflow) pages as they were.
      conn.pragma('secure_delete = ON');
    },
  };
}

/** Extra time the client waits past statement_timeout, so a live server's own cancel (57014) comes first. */
const QUERY_TIMEOUT_MARGIN_MS = 1000;

/**
 * Bounds every wait on PostgreSQL: a connection (new, or free in the pool), a statement (statement_timeout on
 * the server; query_timeout in the client for a server that went silent and will never cancel it), and a
 * transaction left idle (its locks would hold up every push touching the same rows).
 */
function postgresTimeouts(t: DatabaseTimeouts): Pick<DataSourceOptions & { type: 'postgres' }, 'connectTimeoutMS' | 'extra'> {
  return {
    connectTimeoutMS: t.connectMs,
    extra: {
      Client: BoundedClient,
      ...(t.statementMs > 0 && {
        statement_timeout: t.statementMs,
        query_timeout: t.statementMs + QUERY_TIMEOUT_MARGIN_MS,
        idle_in_transaction_session_timeout: Math.max(t.statementMs, 60_000),
      }),
    },
  };
}

/**
 * node-postgres answers a query that hit query_timeout with an error but keeps the connection waiting for the
 * answer; back in the pool, the next transaction on it would queue behind that answer, or (once it arrives)
 * run inside a half-done transaction of the abandoned request. The connection is closed instead, and the pool
 * opens a fresh one.
 */
class BoundedClient extends Client {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- one override for all of pg's query() overloads
  override query(...args: any[]): any {
    const result: unknown = (super.query as (...a: unknown[]) => unknown).apply(this, args);
    if (result instanceof Promise) {
      result.catch((e: unknown) => {
        if ((e as Error)?.message === 'Query read timeout')
          (this as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
      });
    }
    return result;
  }
}
