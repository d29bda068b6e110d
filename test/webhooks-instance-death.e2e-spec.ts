import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { OutboxRelay } from '../src/events/outbox-relay.service';
import { boxRecord, createApiKey, push } from './helpers/api-client';
import { eventually } from './helpers/eventually';
import { ServerProcess, spawnServer } from './helpers/spawn-server';
import { CALLBACK_PATH, startTestApp, TestApp } from './helpers/test-app';
import { createTestDatabase, describeDb, queryRows, testDbKind, TestDatabase } from './helpers/test-database';

/** Two instances share the outbox only on PostgreSQL (SQLite is one process). */
const itPg = testDbKind() === 'postgres' ? it : it.skip;

describeDb('webhooks: event order across instance death', () => {
  let db: TestDatabase;
  let b: TestApp;
  let receiver: http.Server;
  /** Event ids in the order the receiver first saw them. */
  const received: number[] = [];
  let a: ServerProcess | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
    receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const id = Number((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: string }).id);
        if (!received.includes(id)) received.push(id);
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    // Instance B relays (polling rarely, so instance A relays its own pushes) and sends every webhook.
    b = await startTestApp({ db, env: { OUTBOX_LEASE_MS: '3000', OUTBOX_POLL_INTERVAL_MS: '1000', WEBHOOK_POLL_INTERVAL_MS: '50' } });
  });
  afterAll(async () => {
    a?.kill('SIGKILL');
    await b?.close();
    receiver?.closeAllConnections();
    await new Promise((resolve) => receiver?.close(resolve));
    await db?.drop();
  });

  itPg('sends a subscription its events in order when an instance is killed holding claimed outbox rows', async () => {
    const admin = (await createApiKey(b, 'admin')).key;
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    await b
      .http()
      .post('/webhooks/subscriptions')
      .set('x-api-key', admin)
      .send({ url, eventTypes: ['*'] })
      .expect(201);

    // Instance A ingests a burst and relays it itself; kill -9 lands while it holds claims on rows not yet relayed.
    // Whether a given burst leaves such rows is timing, so bursts are repeated (on a fresh A) until one does.
    let t = Date.now() - 60_000;
    let stranded: { id: string | number }[] = [];
    for (let round = 0; round < 6 && stranded.length === 0; round++) {
      a = await spawnServer({ ...db.env, OUTBOX_LEASE_MS: '3000', WEBHOOK_DISPATCH_ENABLED: 'false', OUTBOX_BATCH_SIZE: '200' });
      const pushes: Promise<Response>[] = [];
      for (let i = 0; i < 60; i++) {
        const body = JSON.stringify(boxRecord({ box: 'BOX-DEATH', identity: `p-${i % 7}`, timestamp: ++t }));
        pushes.push(fetch(`${a.url}${CALLBACK_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }));
      }
      for (const res of await Promise.all(pushes)) expect(res.status).toBe(200);
      a.kill('SIGKILL');
      await a.exited;
      stranded = await queryRows(
        b.dataSource,
        'SELECT id FROM outbox_events WHERE processed_at IS NULL AND claimed_by IS NOT NULL AND claimed_by <> ? AND claimed_until > ?',
        [b.app.get(OutboxRelay).instanceId, Date.now()],
      );
    }
    expect(stranded.length).toBeGreaterThan(0);

    // Later events arrive through B and are relayed at once, while A's claimed rows wait out their lease.
    for (let i = 0; i < 10; i++) await push(b, boxRecord({ box: 'BOX-DEATH', identity: 'p-late', timestamp: ++t }));

    // Listeners (persons, alerts, face index) add events of their own as the relay runs the record events:
    // the full list is known only once nothing is pending.
    const relay = b.app.get(OutboxRelay);
    await eventually(async () => (await relay.lag()).pending === 0, 'every outbox event relayed', 30_000);
    const all = (await queryRows<{ id: string | number }>(b.dataSource, 'SELECT id FROM outbox_events ORDER BY id')).map((r) =>
      Number(r.id),
    );
    await eventually(() => received.length >= all.length, 'every event to reach the receiver', 30_000);
    expect(received).toEqual(all);
  });
});
