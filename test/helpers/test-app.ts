import 'reflect-metadata';
import type { Type } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { getDataSourceToken } from '@nestjs/typeorm';
import * as fs from 'node:fs';
import * as path from 'node:path';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import { smallRecords, typicalRecords } from '../../scripts/simulator/fixtures';
import { createApp } from '../../src/bootstrap';
import { OutboxRelay } from '../../src/events/outbox-relay.service';
import { createTestDatabase, TestDatabase } from './test-database';

/** Fixture files committed with the tests; `typical/` and `small/` records are generated (see readFixture). */
export const FIXTURES = path.resolve(__dirname, '../fixtures');
export const CALLBACK_PATH = '/box-callbacks/recognition-records';

export interface TestApp {
  app: NestExpressApplication;
  db: TestDatabase;
  dataSource: DataSource;
  http: () => ReturnType<typeof request>;
  /** Relay every due outbox event now and wait for the listeners. */
  drainOutbox(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The real application (same bootstrap as production) on a fresh database, with migrations run.
 * Pass `db` to start a second app on the same database (restart scenarios).
 */
export async function startTestApp(options: { env?: Record<string, string>; db?: TestDatabase; modules?: Type[] } = {}): Promise<TestApp> {
  const db = options.db ?? (await createTestDatabase());
  const app = await createApp({
    env: { NODE_ENV: 'test', LOG_LEVEL: 'silent', OUTBOX_POLL_INTERVAL_MS: '100', ...db.env, ...options.env },
    modules: options.modules,
  });
  await app.init();
  const server = app.getHttpServer();
  const ownsDb = !options.db;
  return {
    app,
    db,
    dataSource: app.get<DataSource>(getDataSourceToken()),
    http: () => request(server),
    drainOutbox: () => app.get(OutboxRelay).drain(),
    close: async () => {
      await app.close();
      if (ownsDb) await db.drop();
    },
  };
}

const generated: Partial<Record<'small' | 'typical', Record<string, unknown>[]>> = {};
const COUNTS = { small: 20, typical: 8 };

function generatedSet(dir: 'small' | 'typical'): Record<string, unknown>[] {
  return (generated[dir] ??= dir === 'small' ? smallRecords() : typicalRecords());
}

/**
 * A fixture as a fresh object: `typical/000000.json`…`000007` (realistic records with images) and
 * `small/000000.json`…`000019` (no images) are made by the simulator with a fixed seed
 * (scripts/simulator/fixtures.ts); any other name is a file under test/fixtures.
 */
export function readFixture(relative: string): Record<string, unknown> {
  const m = /^(small|typical)\/(\d{6})\.json$/.exec(relative);
  if (m) {
    const record = generatedSet(m[1] as 'small' | 'typical')[Number(m[2])];
    if (!record) throw new Error(`no fixture ${relative}`);
    return structuredClone(record);
  }
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, relative), 'utf8'));
}

export function fixtureFiles(dir: 'small' | 'typical'): string[] {
  return Array.from({ length: COUNTS[dir] }, (_, i) => `${dir}/${String(i).padStart(6, '0')}.json`);
}
