import 'reflect-metadata';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { getDataSourceToken } from '@nestjs/typeorm';
import * as fs from 'node:fs';
import * as path from 'node:path';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import { createApp } from '../../src/bootstrap';
import { OutboxRelay } from '../../src/events/outbox-relay.service';
import { createTestDatabase, TestDatabase } from './test-database';

export const FIXTURES = path.resolve(__dirname, '../../../shared/fixtures');
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
export async function startTestApp(options: { env?: Record<string, string>; db?: TestDatabase } = {}): Promise<TestApp> {
  const db = options.db ?? (await createTestDatabase());
  const app = await createApp({
    env: { NODE_ENV: 'test', LOG_LEVEL: 'silent', OUTBOX_POLL_INTERVAL_MS: '100', ...db.env, ...options.env },
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

export function readFixture(relative: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, relative), 'utf8'));
}

export function fixtureFiles(dir: 'small' | 'typical'): string[] {
  return fs
    .readdirSync(path.join(FIXTURES, dir))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => `${dir}/${f}`);
}
