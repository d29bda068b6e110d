import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { boxRecordWithOwnFace, Json } from './helpers/api-client';
import { eventually } from './helpers/eventually';
import { featureOfBase64, filesHolding } from './helpers/snapshot-bytes';
import { ServerProcess, spawnServer } from './helpers/spawn-server';
import { startTcpProxy, TcpProxy } from './helpers/tcp-proxy';
import { CALLBACK_PATH } from './helpers/test-app';
import { createTestDatabase, describeDb, TestDatabase, testDbKind } from './helpers/test-database';

const ADMIN = 'face-index-outage-admin-key-0123456789';
const T = 1_765_000_000_000;
const recordOf = (i: number) => boxRecordWithOwnFace({ identity: `FO-${i}`, box: 'FO-BOX', timestamp: T + i * 1000 });
const featureOf = (i: number) => (recordOf(i).recognize_face_attr as Json).feature_base64_str as string;

/**
 * The database goes away while the face index catches up with records stored through another instance (PostgreSQL:
 * the hub reaches it through a proxy the test cuts; SQLite is embedded and has no such outage). Once it is back,
 * the index holds every stored record, once.
 */
(testDbKind() === 'postgres' ? describeDb : describe.skip)('face index catching up through a database outage', () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let hub: ServerProcess | undefined;
  let writer: ServerProcess | undefined;
  let locker: Client | undefined;
  const snapshotDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rh-face-outage-'));
  let stored = 0;

  beforeAll(async () => {
    recordOf(0); // the fixtures are generated on first use, which may take seconds on a loaded machine
    db = await createTestDatabase();
    const url = new URL(db.env.DATABASE_URL);
    proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
    url.host = `127.0.0.1:${proxy.port}`;
    // The relay is off on both: the index reads the outbox itself, and listeners would only add waiting on the lock.
    const common = { ...db.env, ADMIN_API_KEY: ADMIN, OUTBOX_RELAY_ENABLED: 'false', WEBHOOK_DISPATCH_ENABLED: 'false' };
    hub = await spawnServer({
      ...common,
      DATABASE_URL: url.toString(),
      FACE_SEARCH_SNAPSHOT_DIR: snapshotDir,
      FACE_SEARCH_POLL_MS: '100',
      FACE_SEARCH_SNAPSHOT_INTERVAL_MS: '300',
      DB_CONNECT_TIMEOUT_MS: '1000',
      DB_STATEMENT_TIMEOUT_MS: '1000',
      HEALTH_CHECK_TIMEOUT_MS: '1000',
    });
    // Another instance, straight to the database: boxes keep pushing to it during the outage.
    writer = await spawnServer({ ...common, FACE_SEARCH_ENABLED: 'false' });
  });
  afterAll(async () => {
    await locker?.end().catch(() => undefined);
    for (const s of [hub, writer]) s?.kill('SIGKILL');
    await Promise.all([hub?.exited, writer?.exited]);
    await proxy?.close();
    await db?.drop();
    fs.rmSync(snapshotDir, { recursive: true, force: true });
  });

  const push = async (to: ServerProcess, n: number) => {
    for (const end = stored + n; stored < end; stored++) {
      const res = await fetch(to.url + CALLBACK_PATH, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(recordOf(stored)),
      });
      expect(res.status).toBe(200);
    }
  };
  const get = async (p: string, init: RequestInit = {}) => {
    const res = await fetch(hub!.url + p, { ...init, headers: { 'x-api-key': ADMIN, 'content-type': 'application/json' } });
    return { status: res.status, body: (await res.json()) as Json };
  };
  const search = (body: Json) => get('/faces/search', { method: 'POST', body: JSON.stringify(body) });
  /** Every stored record in the hub's index, once (a search without threshold returns them all). */
  const indexHoldsEveryRecord = async () => {
    const res = await search({ feature: featureOf(0), limit: 200, minSimilarity: -1 });
    if (res.status !== 200) return false;
    const names = (res.body.items as Json[]).map((item) => (item.record as Json).identityExternalId).sort();
    const want = Array.from({ length: stored }, (_, i) => `FO-${i}`).sort();
    return res.body.searched === stored && JSON.stringify(names) === JSON.stringify(want);
  };

  it('resumes after the outage and ends up with every record once, also when the database went away between its two reads', async () => {
    await push(hub!, 8);
    await eventually(indexHoldsEveryRecord, 'the first records indexed');

    await proxy.refuse();
    await push(writer!, 8);
    // Not ready, naming the database; searches answer 503 (never a 500) while it is away.
    const ready = await eventually(async () => {
      const r = await get('/health/ready');
      return r.status === 503 && r.body;
    }, 'readiness to fail');
    expect((ready.error as Json).database).toMatchObject({ status: 'down' });
    const during = await search({ feature: featureOf(0), limit: 5 });
    expect(during.status).toBe(503);

    // Back, but the records table stays locked for a while: the index reads the outbox (new record events), then
    // fails to read their vectors. They must be read again, not skipped.
    locker = new Client({ connectionString: db.env.DATABASE_URL });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE recognition_records IN ACCESS EXCLUSIVE MODE');
    const before = hub!.output().length;
    await proxy.restore();
    await eventually(
      () => /face index update failed/.test(hub!.output().slice(before)),
      'the index to fail reading the new records’ vectors',
      20_000,
    );
    await locker.query('COMMIT');
    await locker.end();
    locker = undefined;

    await eventually(indexHoldsEveryRecord, 'every record indexed once the database is back', 20_000);
    expect((await get('/health/ready')).status).toBe(200);
    // Still: each is found by its own face.
    for (const i of [0, 8, stored - 1]) {
      const res = await search({ feature: featureOf(i), limit: 1, minSimilarity: 0.99 });
      expect(((res.body.items as Json[])[0].record as Json).identityExternalId).toBe(`FO-${i}`);
    }
    expect(hub!.output()).not.toMatch(/[A-Za-z0-9+/]{100}/);
  });

  it('an erasure committed while the database is refused, or silent, is read once it is back: neither skipped nor lost', async () => {
    const sql = new Client({ connectionString: db.env.DATABASE_URL });
    await sql.connect();
    try {
      const recordOfIdentity = async (i: number) =>
        (await sql.query<{ id: string }>('SELECT id FROM recognition_records WHERE identity_external_id = $1', [`FO-${i}`])).rows[0].id;
      const holding = (i: number) => filesHolding(snapshotDir, [featureOfBase64(featureOf(i))]);
      const searched = async () => (await search({ feature: featureOf(0), limit: 1 })).body.searched;
      const found = async (i: number) => {
        const res = await search({ feature: featureOf(i), limit: 1, minSimilarity: 0.99 });
        return res.status === 200 && (res.body.items as Json[]).length > 0;
      };
      await eventually(indexHoldsEveryRecord, 'every record indexed');
      await eventually(() => holding(3).length > 0, 'a snapshot holding the vector to erase', 10_000);

      // Refused: the erasure commits through the other instance; the hub cannot read the outbox meanwhile.
      await proxy.refuse();
      const [identity] = (await sql.query<{ id: string }>(`SELECT id FROM identities WHERE external_id = 'FO-3'`)).rows;
      const erased = await fetch(`${writer!.url}/identities/${identity.id}/erasure`, { method: 'POST', headers: { 'x-api-key': ADMIN } });
      expect(erased.status).toBe(200);
      await eventually(async () => (await get('/health/ready')).status === 503, 'the hub to lose the database');
      await new Promise((r) => setTimeout(r, 500));
      await proxy.restore();
      await eventually(async () => (await searched()) === stored - 1 && !(await found(3)), 'the erasure applied once back', 20_000);
      await eventually(() => holding(3).length === 0, 'no snapshot file with the erased vector', 10_000);

      // Silent: a retention batch naming a record that keeps its feature (so neither the sweep nor a search can take
      // it out: only reading the event can) commits while every query of the hub hangs.
      proxy.silence();
      const deleted = await recordOfIdentity(5);
      await sql.query(
        `INSERT INTO outbox_events (type, aggregate_id, payload, created_at, available_at, attempts, processed_at)
         VALUES ('retention.records-deleted', 'retention', $1, $2, $2, 0, $2)`,
        [JSON.stringify({ deletion: { recordIds: [deleted], cutoff: 1 } }), Date.now()],
      );
      await eventually(async () => (await get('/health/ready')).status === 503, 'the hub to wait on the silent database', 20_000);
      expect(await found(5)).toBe(false); // 503 while the database is silent
      await proxy.restore();
      await eventually(async () => (await searched()) === stored - 2, 'the deletion applied once the database answers', 20_000);
      expect(await found(5)).toBe(false);
      await eventually(() => holding(5).length === 0, 'no snapshot file with the deleted vector', 10_000);
      expect(holding(6).length).toBeGreaterThan(0);
      expect((await get('/health/ready')).status).toBe(200);
      expect(hub!.output()).not.toMatch(/[A-Za-z0-9+/]{100}/);
    } finally {
      await sql.end();
    }
  });
});
