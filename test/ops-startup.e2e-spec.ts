import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import { migrations } from '../src/database/migrations';
import { boxRecord } from './helpers/api-client';
import { eventually } from './helpers/eventually';
import { ServerProcess, spawnServer } from './helpers/spawn-server';
import { CALLBACK_PATH } from './helpers/test-app';
import { createTestDatabase, describeDb, openDataSource, TestDatabase, testDbKind } from './helpers/test-database';

/** JSON log lines of a server's output at level error (50) or above, and any plain-text error. */
function errorLines(output: string): string[] {
  return output.split('\n').filter((l) => {
    if (!l.trim()) return false;
    try {
      return (JSON.parse(l) as { level?: number }).level! >= 50;
    } catch {
      return /error/i.test(l);
    }
  });
}

async function post(
  server: ServerProcess,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.text() };
}

describeDb('operations: start-up and background work', () => {
  let db: TestDatabase;
  const servers: ServerProcess[] = [];

  beforeEach(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    for (const s of servers.splice(0)) {
      s.kill('SIGKILL');
      await s.exited;
    }
    await db?.drop();
  });

  (testDbKind() === 'postgres' ? it : it.skip)(
    'starts three instances at once on an empty database: one migrates, none logs an error',
    async () => {
      // Without the migration lock the instances race on creating the migrations table; the race is likely but not
      // certain in one round (about half the rounds on this machine), so three fresh databases are tried.
      for (let round = 0; round < 3; round++) {
        const fresh = round === 0 ? db : await createTestDatabase();
        try {
          const env = { ...fresh.env, LOG_LEVEL: 'info' };
          const started = await Promise.all([spawnServer(env), spawnServer(env), spawnServer(env)]);
          servers.push(...started);
          for (const s of started) {
            expect((await fetch(`${s.url}/health/ready`)).status).toBe(200);
            expect(errorLines(s.output())).toEqual([]);
          }
          const ds = await openDataSource(fresh, 1);
          try {
            const applied: { name: string }[] = await ds.query('SELECT name FROM migrations');
            expect(applied).toHaveLength(migrations.length);
          } finally {
            await ds.destroy();
          }
        } finally {
          for (const s of servers.splice(0)) {
            s.kill('SIGKILL');
            await s.exited;
          }
          if (fresh !== db) await fresh.drop();
        }
      }
    },
  );

  it('logs background work (webhook attempts) without the id of the request that woke it', async () => {
    const adminKey = 'startup-test-admin-key-0123456789abcdef';
    const receiver = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(500).end());
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const server = await spawnServer({
        ...db.env,
        LOG_LEVEL: 'info',
        ADMIN_API_KEY: adminKey,
        WEBHOOK_POLL_INTERVAL_MS: '100',
        WEBHOOK_BACKOFF_BASE_MS: '100',
        WEBHOOK_MAX_ATTEMPTS: '2',
      });
      servers.push(server);
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
      const sub = await post(server, '/webhooks/subscriptions', { url, eventTypes: ['*'] }, { 'x-api-key': adminKey });
      expect(sub.status).toBe(201);

      const requestId = 'wakes-background-work-1234';
      const pushed = await post(server, CALLBACK_PATH, boxRecord({ box: 'BOX-BG', timestamp: Date.now() }), { 'x-request-id': requestId });
      expect(pushed.status).toBe(200);
      await eventually(() => /webhook delivery .* attempt 2 failed/.test(server.output()), 'both webhook attempts to fail');

      const lines = server
        .output()
        .split('\n')
        .filter((l) => l.includes('webhook delivery'));
      expect(lines.length).toBeGreaterThanOrEqual(2);
      for (const l of lines) expect(l).not.toContain(requestId);
      // The request's own line still carries it.
      expect(
        server
          .output()
          .split('\n')
          .some((l) => l.includes(requestId) && l.includes(CALLBACK_PATH)),
      ).toBe(true);
    } finally {
      receiver.closeAllConnections();
      await new Promise((resolve) => receiver.close(resolve));
    }
  });
});
