import Database from 'better-sqlite3';
import * as path from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { databaseSettings } from '../src/config/app-config.service';
import { buildDataSourceOptions } from '../src/database/data-source-options';
import { boxRecord } from './helpers/api-client';
import { eventually } from './helpers/eventually';
import { spawnServer, ServerProcess } from './helpers/spawn-server';
import { startTcpProxy, TcpProxy } from './helpers/tcp-proxy';
import { CALLBACK_PATH } from './helpers/test-app';
import { createTestDatabase, describeDb, TestDatabase, testDbKind } from './helpers/test-database';

const TIMEOUT_MS = 1000;
/** What "answers within the timeout" allows for: the configured timeouts plus slack for a loaded test machine. */
const BOUND_MS = 8000;
const LICENSE_KEY = 'LEAKCHECK0001202601011200';
const NAME = 'Zelda Quickfox';

const pgOnly = testDbKind() === 'postgres' ? it : it.skip;
const sqliteOnly = testDbKind() === 'sqlite' ? it : it.skip;

describeDb('operations: database outages and personal data in logs', () => {
  let db: TestDatabase;
  let proxy: TcpProxy | undefined;
  let server: ServerProcess;
  let nextTimestamp = Date.now() - 60_000;

  beforeAll(async () => {
    db = await createTestDatabase();
    const env = { ...db.env };
    if (db.kind === 'postgres') {
      // The hub reaches PostgreSQL through a proxy the tests can cut; the shared server itself is never stopped.
      const url = new URL(db.env.DATABASE_URL);
      proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
      url.host = `127.0.0.1:${proxy.port}`;
      env.DATABASE_URL = url.toString();
    }
    server = await spawnServer({
      ...env,
      LOG_LEVEL: 'info',
      OUTBOX_RELAY_ENABLED: 'false',
      WEBHOOK_DISPATCH_ENABLED: 'false', // background writers would wait on the same locks; the tests look at requests
      HEALTH_CHECK_TIMEOUT_MS: String(TIMEOUT_MS),
      DB_CONNECT_TIMEOUT_MS: String(TIMEOUT_MS),
      DB_STATEMENT_TIMEOUT_MS: String(TIMEOUT_MS),
    });
  });
  afterAll(async () => {
    server?.kill('SIGKILL');
    await server?.exited;
    await proxy?.close();
    await db?.drop();
  });

  /** Runs SQL on the test database directly (not through the proxy). */
  async function sql(statements: { postgres: string; sqlite: string }): Promise<void> {
    if (db.kind === 'postgres') {
      const c = new Client({ connectionString: db.env.DATABASE_URL });
      await c.connect();
      try {
        await c.query(statements.postgres);
      } finally {
        await c.end();
      }
    } else {
      const conn = new Database(path.join(db.dataDir, 'recognition-hub.sqlite'));
      try {
        conn.exec(statements.sqlite);
      } finally {
        conn.close();
      }
    }
  }

  async function timed<T>(what: () => Promise<T>): Promise<{ value: T; ms: number }> {
    const start = Date.now();
    const value = await what();
    return { value, ms: Date.now() - start };
  }

  const push = (body: unknown) =>
    timed(() =>
      fetch(`${server.url}${CALLBACK_PATH}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(60_000),
      }),
    );
  const ready = () =>
    timed(async () => {
      const res = await fetch(`${server.url}/health/ready`, { signal: AbortSignal.timeout(60_000) });
      return { status: res.status, body: (await res.json()) as { error?: Record<string, { status: string; message?: string }> } };
    });
  const record = (overrides: Record<string, unknown> = {}) => ({
    ...boxRecord({ box: 'BOX-OUTAGE', timestamp: nextTimestamp++ }),
    ...overrides,
  });

  it('logs a failed query as JSON without its parameters: no license key, no name', async () => {
    // The database rejects the outbox row of this one push (its parameters carry the key and the name).
    await sql({
      postgres: `CREATE FUNCTION reject_test_row() RETURNS trigger LANGUAGE plpgsql AS $$
                 BEGIN IF NEW.payload LIKE '%Zelda%' THEN RAISE EXCEPTION 'rejected by the test'; END IF; RETURN NEW; END $$;
                 CREATE TRIGGER reject_test_row BEFORE INSERT ON outbox_events FOR EACH ROW EXECUTE FUNCTION reject_test_row();`,
      sqlite: `CREATE TRIGGER reject_test_row BEFORE INSERT ON outbox_events WHEN NEW.payload LIKE '%Zelda%'
               BEGIN SELECT RAISE(ABORT, 'rejected by the test'); END;`,
    });
    try {
      const { value: res } = await push(record({ mq_license_key: LICENSE_KEY, identity_name: NAME }));
      expect(res.status).toBe(500);
    } finally {
      await sql({
        postgres: 'DROP TRIGGER reject_test_row ON outbox_events; DROP FUNCTION reject_test_row();',
        sqlite: 'DROP TRIGGER reject_test_row;',
      });
    }
    // Other failed queries may be logged too (background readers during the earlier outage): find the rejected insert.
    const out = await eventually(
      () => /query failed.*INSERT INTO outbox_events/.test(server.output()) && server.output(),
      'the query failure logged',
    );
    expect(out).not.toContain(LICENSE_KEY);
    expect(out).not.toContain(NAME);
    expect(out).not.toContain('PARAMETERS');
    const failure = out
      .split('\n')
      .filter((l) => l.includes('query failed') && l.includes('INSERT INTO outbox_events'))
      .map((l) => JSON.parse(l) as { context?: string; sql?: string; sqlHash?: string; code?: string });
    expect(failure[0]).toMatchObject({
      context: 'Database',
      sql: expect.stringContaining('INSERT INTO outbox_events'),
      sqlHash: expect.any(String),
      code: expect.any(String),
    });
  });

  it('never logs a query string value (an API key in the URL, a license key as a filter)', async () => {
    const res = await fetch(`${server.url}/records?api_key=SECRETAPIKEY0123456789&box=${LICENSE_KEY}`);
    expect(res.status).toBe(401);
    const line = await eventually(
      () =>
        server
          .output()
          .split('\n')
          .find((l) => l.includes('"url":"/records?')),
      'the request logged',
    );
    expect(JSON.parse(line).req.url).toBe('/records?api_key=…&box=…');
    expect(server.output()).not.toContain('SECRETAPIKEY0123456789');
    expect(server.output()).not.toContain(LICENSE_KEY);
  });

  sqliteOnly(
    'when another process holds the SQLite write lock: pushes 503 with Retry-After after busy_timeout, then 200 again',
    async () => {
      const lock = new Database(path.join(db.dataDir, 'recognition-hub.sqlite'));
      const body = record();
      try {
        lock.exec('BEGIN IMMEDIATE');
        const p = await push(body);
        expect(p.value.status).toBe(503);
        expect(p.value.headers.get('retry-after')).toMatch(/^\d+$/);
        expect(p.ms).toBeLessThan(5000 + BOUND_MS); // busy_timeout, then the answer
      } finally {
        if (lock.inTransaction) lock.exec('ROLLBACK');
        lock.close();
      }
      expect((await push(body)).value.status).toBe(200);
    },
  );

  pgOnly(
    'when PostgreSQL refuses connections: readiness 503 naming the database, pushes 503 with Retry-After, then 200 again',
    async () => {
      await push(record()).then(({ value }) => expect(value.status).toBe(200));
      await proxy!.refuse();
      try {
        const r = await ready();
        expect(r.value.status).toBe(503);
        expect(r.value.body.error?.database).toEqual(expect.objectContaining({ status: 'down' }));
        expect(r.ms).toBeLessThan(BOUND_MS);

        const body = record();
        const p = await push(body);
        expect(p.value.status).toBe(503);
        expect(p.value.headers.get('retry-after')).toMatch(/^\d+$/);
        expect(await p.value.json()).toMatchObject({ statusCode: 503, message: expect.stringContaining('database') });
        expect(p.ms).toBeLessThan(BOUND_MS);
        // The REST API too: checking the key needs the database.
        const api = await fetch(`${server.url}/records`, { headers: { 'x-api-key': `rhk_${'k'.repeat(40)}` } });
        expect(api.status).toBe(503);

        await proxy!.restore();
        await eventually(async () => (await push(body)).value.status === 200, 'pushes accepted again');
        await eventually(async () => (await ready()).value.status === 200, 'ready again');
      } finally {
        await proxy!.restore();
      }
    },
  );

  pgOnly(
    'when PostgreSQL goes silent: readiness 503 within the check timeout, pushes 503 within a bounded time, then 200 again',
    async () => {
      await push(record()).then(({ value }) => expect(value.status).toBe(200));
      proxy!.silence();
      const body = record();
      try {
        const r = await ready();
        expect(r.value.status).toBe(503);
        expect(r.value.body.error?.database).toEqual({
          status: 'down',
          message: `timeout of ${TIMEOUT_MS}ms exceeded`,
          responseTime: expect.any(Number),
        });
        expect(r.ms).toBeLessThan(BOUND_MS);

        const p = await push(body);
        expect(p.value.status).toBe(503);
        expect(p.value.headers.get('retry-after')).toMatch(/^\d+$/);
        expect(p.ms).toBeLessThan(BOUND_MS);
      } finally {
        await proxy!.restore();
      }
      // The box's retry of the same event is stored once.
      await eventually(async () => (await push(body)).value.status === 200, 'pushes accepted again');
      await eventually(async () => (await ready()).value.status === 200, 'ready again');
      const c = new Client({ connectionString: db.env.DATABASE_URL });
      await c.connect();
      try {
        const rows = await c.query('SELECT count(*)::int AS n FROM recognition_records WHERE occurred_at = $1', [body.timestamp]);
        expect(rows.rows[0].n).toBe(1);
      } finally {
        await c.end();
      }
      expect(server.output()).not.toContain('BOX-OUTAGE'); // the box's key stays out of the logs of the outage too
    },
  );

  pgOnly('never lets a later transaction commit the statements of one abandoned on a timeout', async () => {
    // One pooled connection through the proxy, configured as the app configures it.
    const url = new URL(db.env.DATABASE_URL);
    url.host = `127.0.0.1:${proxy!.port}`;
    const ds = new DataSource(
      buildDataSourceOptions(
        databaseSettings(url.toString(), db.dataDir, undefined, 1, { connectMs: TIMEOUT_MS, statementMs: TIMEOUT_MS }),
        [],
      ),
    );
    await ds.initialize();
    try {
      await ds.query('CREATE TABLE abandoned_test (n int)');
      await expect(
        ds.transaction(async (m) => {
          await m.query('INSERT INTO abandoned_test VALUES (1)');
          proxy!.silence(); // the next statement leaves but gets no answer before the client gives up
          await m.query('INSERT INTO abandoned_test VALUES (2)');
        }),
      ).rejects.toThrow();
      await proxy!.restore(); // the held statement reaches the server now
      await eventually(
        async () =>
          ds
            .transaction((m) => m.query('INSERT INTO abandoned_test VALUES (3)'))
            .then(
              () => true,
              () => false,
            ),
        'a later transaction committed',
      );
      const rows: { n: number }[] = await ds.query('SELECT n FROM abandoned_test ORDER BY n');
      expect(rows.map((r) => r.n)).toEqual([3]);
    } finally {
      await proxy!.restore();
      await ds.destroy();
    }
  });
});
