import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { databaseSettings } from '../../src/config/app-config.service';
import { buildDataSourceOptions } from '../../src/database/data-source-options';
import { entities } from '../../src/entities';

export type TestDbKind = 'sqlite' | 'postgres';

export function testDbKind(): TestDbKind {
  return process.env.TEST_DB === 'postgres' ? 'postgres' : 'sqlite';
}

export function adminDatabaseUrl(): string {
  return process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
}

/** describe() that runs only where its database is available (PostgreSQL may be skipped off CI). */
export const describeDb: jest.Describe = ((name: string, fn: () => void) => {
  const skip = testDbKind() === 'postgres' && process.env.TEST_POSTGRES_AVAILABLE === '0';
  return (skip ? describe.skip : describe)(`${name} [${testDbKind()}]`, fn);
}) as jest.Describe;

export interface TestDatabase {
  kind: TestDbKind;
  /** Environment that points the app at this database. */
  env: Record<string, string>;
  /** Where the app keeps its files (SQLite file, images). */
  dataDir: string;
  drop(): Promise<void>;
}

/** A fresh, empty database (a new PostgreSQL database, or a new SQLite file) and data directory. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rh-test-'));
  if (testDbKind() === 'sqlite') {
    return {
      kind: 'sqlite',
      dataDir,
      env: { DATA_DIR: dataDir },
      drop: async () => fs.rmSync(dataDir, { recursive: true, force: true }),
    };
  }
  const name = `rh_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: adminDatabaseUrl() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminDatabaseUrl());
  url.pathname = `/${name}`;
  return {
    kind: 'postgres',
    dataDir,
    env: { DATA_DIR: dataDir, DATABASE_URL: url.toString() },
    drop: async () => {
      const c = new Client({ connectionString: adminDatabaseUrl() });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs SQL written with `?` placeholders on either database (PostgreSQL wants $1, $2, …). */
export function queryRows<T = Record<string, unknown>>(ds: DataSource, sql: string, params: unknown[] = []): Promise<T[]> {
  let i = 0;
  return ds.query(ds.options.type === 'postgres' ? sql.replace(/\?/g, () => `$${++i}`) : sql, params);
}

/** The test's own connection to a database that a spawned hub migrates (open it once the hub has started). */
export async function openDataSource(db: TestDatabase, poolSize = 2, sqlitePath?: string): Promise<DataSource> {
  const ds = new DataSource(buildDataSourceOptions(databaseSettings(db.env.DATABASE_URL, db.dataDir, sqlitePath, poolSize), entities));
  await ds.initialize();
  return ds;
}
