import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { CALLBACK_PATH, startTestApp } from './helpers/test-app';
import { describeDb, queryRows } from './helpers/test-database';
import { eventually } from './helpers/eventually';
import { EventFeedService } from '../src/integrations/event-feed.service';
import { ImageStore } from '../src/images/image-store';
import { RetentionService } from '../src/retention/retention.service';
import { WebhookSubscriptionsService } from '../src/integrations/webhooks/webhook-subscriptions.service';
import { makeBox, makeJpeg, makeRecord, makeRng } from '../scripts/simulator/payloads';

const DAY = 86_400_000;
const ADMIN = 'ops-test-admin-key-0123456789abcdef0123';
const IMAGE_COLUMNS = ['reg_image_sha256', 'spot_image_sha256', 'ir_image_sha256', 'face_image_sha256'];
type Row = Record<string, unknown>;

/** Every image file in the store (names are sha256). */
function filesIn(imageDir: string): Set<string> {
  const out = new Set<string>();
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      if (e.isDirectory()) walk(path.join(dir, e.name));
      else out.add(e.name);
    }
  };
  walk(imageDir);
  return out;
}

async function setup(env: Record<string, string>) {
  const t = await startTestApp({ env: { OUTBOX_RELAY_ENABLED: 'false', ADMIN_API_KEY: ADMIN, ...env } });
  const q = (sql: string, params: unknown[] = []): Promise<Row[]> => queryRows(t.dataSource, sql, params);
  const post = (body: unknown) =>
    t
      .http()
      .post(CALLBACK_PATH)
      .set('content-type', 'application/json')
      .send(body as object)
      .expect(200);
  const referenced = async (): Promise<Set<string>> => {
    const rows = await q(
      [...IMAGE_COLUMNS.map((c) => `SELECT ${c} AS sha FROM recognition_records`), 'SELECT image_sha256 AS sha FROM faces'].join(' UNION '),
    );
    return new Set(rows.map((r) => r.sha as string).filter(Boolean));
  };
  const indexed = async () => new Set((await q('SELECT sha256 FROM stored_images')).map((r) => r.sha256 as string));
  const imageDir = path.join(t.db.dataDir, 'images');
  return { t, q, post, referenced, indexed, files: () => filesIn(imageDir) };
}

describeDb('operations: retention purge', () => {
  let s: Awaited<ReturnType<typeof setup>>;

  beforeAll(async () => {
    s = await setup({
      RETENTION_IMAGE_DAYS: '7',
      RETENTION_RECORD_DAYS: '30',
      RETENTION_BATCH_SIZE: '2',
      WEBHOOK_DISPATCH_ENABLED: 'false',
    });
  });
  afterAll(async () => {
    await s?.t.close();
  });

  it('deletes records past record retention with their outbox rows, strips images past image retention, and deletes exactly the images nothing uses', async () => {
    const now = Date.now();
    const box = makeBox(0, 11, { identities: 3 });
    const at = (days: number, i: number) => now - days * DAY + i;
    const old = [0, 1, 2].map((i) => makeRecord(box, at(40, i), { sceneWidth: 64 }));
    const mid = [0, 1, 2].map((i) => makeRecord(box, at(10, i), { sceneWidth: 64 }));
    const fresh = [0, 1].map((i) => makeRecord(box, at(1, i), { sceneWidth: 64 }));
    // An expired record's scene that a fresh record also uses must survive.
    mid[0].spot_image = fresh[0].spot_image;
    old[0].recognize_face_image = fresh[1].recognize_face_image;
    // A webhook subscriber: its delivery log holds copies of event bodies, which must expire with their records.
    await s.t.app.get(WebhookSubscriptionsService).create({ url: 'http://127.0.0.1:9/hook', eventTypes: ['recognition.recorded'] }, 'test');
    for (const r of [...old, ...mid, ...fresh]) await s.post(r);
    await s.t.drainOutbox();
    const deliveriesFor = async (ids: string[]) =>
      s.q(
        `SELECT d.id FROM webhook_deliveries d JOIN outbox_events o ON o.id = d.event_id WHERE o.aggregate_id IN (${ids.map(() => '?').join(', ')})`,
        ids,
      );

    const oldIds = (await s.q('SELECT id FROM recognition_records WHERE occurred_at < ?', [now - 30 * DAY])).map((r) => r.id as string);
    expect(oldIds).toHaveLength(3);
    const beforeFiles = s.files();
    expect(await deliveriesFor(oldIds)).toHaveLength(3);
    const deliveriesBefore = (await s.q('SELECT id FROM webhook_deliveries')).length;
    expect(deliveriesBefore).toBe(8);
    const featuresBefore = await s.q('SELECT id FROM recognition_records WHERE feature IS NOT NULL');

    const report = await s.t.app.get(RetentionService).purgeExpired(now);
    expect(report.recordsDeleted).toBe(3);
    expect(report.recordsStripped).toBe(3);

    // Records: old ones gone with their outbox rows, the others still there.
    const left = await s.q(
      'SELECT id, occurred_at, feature, reg_image_sha256, spot_image_sha256, ir_image_sha256, face_image_sha256 FROM recognition_records',
    );
    expect(left).toHaveLength(5);
    const outboxLeft = await s.q(
      `SELECT aggregate_id FROM outbox_events WHERE aggregate_id IN (${oldIds.map(() => '?').join(', ')})`,
      oldIds,
    );
    expect(outboxLeft).toEqual([]);
    expect((await s.q('SELECT id FROM webhook_deliveries')).length).toBe(deliveriesBefore - 3);
    for (const r of left) {
      const stripped = Number(r.occurred_at) < now - 7 * DAY;
      for (const c of IMAGE_COLUMNS) if (stripped) expect(r[c]).toBeNull();
      if (!stripped) expect(r.spot_image_sha256).not.toBeNull();
      expect(r.feature).not.toBeNull(); // image retention takes images only
    }
    expect(featuresBefore.length).toBe(8);

    // Images: files and index rows are exactly what records and faces still reference.
    const referenced = await s.referenced();
    expect(s.files()).toEqual(referenced);
    expect(await s.indexed()).toEqual(referenced);
    expect(report.imagesDeleted).toBe(beforeFiles.size - referenced.size);
    expect(report.imagesDeleted).toBeGreaterThan(0);
    const fresh0 = left.find((r) => Number(r.occurred_at) === at(1, 0))!;
    expect(referenced.has(fresh0.spot_image_sha256 as string)).toBe(true);

    const audit = await s.q("SELECT actor, action FROM audit_log WHERE action = 'retention.purged'");
    expect(audit).toEqual([{ actor: 'system:retention', action: 'retention.purged' }]);

    // Nothing more to do on a second run.
    expect(await s.t.app.get(RetentionService).purgeExpired(now)).toMatchObject({
      recordsDeleted: 0,
      recordsStripped: 0,
      imagesDeleted: 0,
    });
  });

  it('an ingest whose already-stored image was purged before its commit writes the image again', async () => {
    const store = s.t.app.get(ImageStore);
    const r = makeRecord(makeBox(3, 14, { identities: 1 }), Date.now(), { sceneWidth: 64 });
    const bytes = Buffer.from(String(r.spot_image), 'base64');
    const sha = createHash('sha256').update(bytes).digest('hex');
    await store.put(bytes); // stored earlier, unreferenced: a purge candidate
    const realPut = store.put.bind(store);
    // The purge moves the file aside right after this ingest found it in place, and then deletes it.
    let raced = false;
    const spy = jest.spyOn(store, 'put').mockImplementation(async (b: Buffer) => {
      const result = await realPut(b);
      if (result.sha256 === sha && !raced) {
        raced = true;
        await store.quarantine(sha);
        await store.discardQuarantined(sha);
      }
      return result;
    });
    try {
      await s.post(r);
    } finally {
      spy.mockRestore();
    }
    expect(raced).toBe(true);
    expect((await store.read(sha))?.equals(bytes)).toBe(true);
    expect((await s.indexed()).has(sha)).toBe(true);
  });

  it('puts an image back when a record references it again before the purge decides (quarantine recovery)', async () => {
    const box = makeBox(1, 12, { identities: 1 });
    const r = makeRecord(box, Date.now(), { sceneWidth: 64 });
    await s.post(r);
    const [row] = await s.q('SELECT spot_image_sha256 FROM recognition_records WHERE occurred_at = ?', [r.timestamp]);
    const sha = row.spot_image_sha256 as string;
    // As if a purge had moved the file aside and died before deciding.
    const target = path.join(s.t.db.dataDir, 'images', sha.slice(0, 2), sha.slice(2, 4), sha);
    fs.renameSync(target, path.join(s.t.db.dataDir, 'images', '.purge', sha));
    await s.t.app.get(RetentionService).purgeExpired();
    expect(fs.existsSync(target)).toBe(true);
  });
});

describeDb('operations: erasure of one identity', () => {
  let s: Awaited<ReturnType<typeof setup>>;

  beforeAll(async () => {
    s = await setup({});
  });
  afterAll(async () => {
    await s?.t.close();
  });

  it("removes the identity's images, features and face library everywhere, keeps what others use, and audits it", async () => {
    const box = makeBox(2, 13, { identities: 2 });
    const rng = makeRng(99);
    const base = Date.now() - 60_000;
    const mine = [0, 1, 2].map(
      (i) => ({ ...makeRecord(box, base + i, { sceneWidth: 64 }), identity_id: 'erase-me', user_type: 'employee' }) as Row,
    );
    mine[0].post_action = '1001'; // the box registered this person: a face library entry follows
    mine[1].post_action = '1002';
    mine[1].reg_image = makeJpeg(rng, 48, 64).toString('base64');
    const other: Row = { ...makeRecord(box, base + 10, { sceneWidth: 64 }), identity_id: 'keep-me', spot_image: mine[2].spot_image };
    for (const r of [...mine, other]) await s.post(r);
    await s.t.drainOutbox();

    const [identity] = await s.q("SELECT id FROM identities WHERE external_id = 'erase-me'");
    const identityId = identity.id as string;
    const myRows = await s.q('SELECT * FROM recognition_records WHERE identity_id = ?', [identityId]);
    const myShas = new Set(myRows.flatMap((r) => IMAGE_COLUMNS.map((c) => r[c] as string | null)).filter((x): x is string => !!x));
    const faceShas = (await s.q('SELECT image_sha256 FROM faces WHERE identity_id = ?', [identityId])).map((r) => r.image_sha256 as string);
    for (const sha of faceShas) if (sha) myShas.add(sha);
    const [otherRow] = await s.q("SELECT * FROM recognition_records WHERE identity_external_id = 'keep-me'");
    const shared = new Set(IMAGE_COLUMNS.map((c) => otherRow[c] as string).filter((sha) => myShas.has(sha)));
    expect(shared.has(otherRow.spot_image_sha256 as string)).toBe(true);

    await s.t.http().post(`/identities/${identityId}/erasure`).expect(401);
    await s.t.http().post('/identities/00000000-0000-0000-0000-000000000000/erasure').set('x-api-key', ADMIN).expect(404);
    const res = await s.t.http().post(`/identities/${identityId}/erasure`).set('x-api-key', ADMIN).expect(200);
    expect(res.body).toMatchObject({ identityId, recordsCleared: 3, imagesDeleted: myShas.size - shared.size });
    expect(res.body.facesDeleted).toBe(faceShas.length);
    expect(faceShas.length).toBeGreaterThan(0);

    // No biometric column left on its records, no face, no file, no index row; the shared scene stays.
    const after = await s.q('SELECT * FROM recognition_records WHERE identity_id = ?', [identityId]);
    expect(after).toHaveLength(3);
    for (const r of after) for (const c of [...IMAGE_COLUMNS, 'feature', 'landmarks']) expect(r[c]).toBeNull();
    expect(await s.q('SELECT id FROM faces WHERE identity_id = ?', [identityId])).toEqual([]);
    const files = s.files();
    const indexed = await s.indexed();
    for (const sha of myShas) {
      expect(files.has(sha)).toBe(shared.has(sha));
      expect(indexed.has(sha)).toBe(shared.has(sha));
    }
    expect(files).toEqual(await s.referenced());

    const audit = await s.q("SELECT actor, subject_type, subject_id FROM audit_log WHERE action = 'identity.biometrics-erased'");
    expect(audit).toEqual([{ actor: 'env:ADMIN_API_KEY', subject_type: 'identity', subject_id: identityId }]);
    // Erasing again finds nothing left to remove.
    const again = await s.t.http().post(`/identities/${identityId}/erasure`).set('x-api-key', ADMIN).expect(200);
    expect(again.body).toMatchObject({ recordsCleared: 0, facesDeleted: 0, imagesDeleted: 0 });
  });
});

/** Where erased bytes could still sit: raw SQLite files, or every tuple (live or dead) of PostgreSQL relations. */
async function storedBytes(t: Awaited<ReturnType<typeof setup>>['t']): Promise<Buffer[]> {
  if (t.db.kind === 'sqlite') {
    const file = t.dataSource.options.database as string;
    return [file, `${file}-wal`].filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f));
  }
  // pageinspect shows every tuple of a page, including dead row versions a plain query no longer sees.
  const q = (sql: string, params: unknown[] = []) => queryRows(t.dataSource, sql, params);
  await q('CREATE EXTENSION IF NOT EXISTS pageinspect');
  const out: Buffer[] = [];
  for (const table of ['recognition_records', 'faces', 'stored_images', 'pending_image_releases', 'outbox_events', 'webhook_deliveries']) {
    const rels = await q(
      `SELECT c.oid::regclass::text AS rel, c.relkind, pg_relation_size(c.oid) / current_setting('block_size')::int AS blocks
       FROM pg_class c WHERE c.oid = ?::regclass OR c.oid = (SELECT reltoastrelid FROM pg_class WHERE oid = ?::regclass)
         OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = ?::regclass)`,
      [table, table, table],
    );
    for (const r of rels) {
      const blocks = Number(r.blocks);
      if (r.relkind === 'i') {
        for (let b = 1; b < blocks; b++) {
          const items = await q('SELECT data FROM bt_page_items(get_raw_page(?, ?))', [r.rel, b]);
          for (const i of items) out.push(Buffer.from(String(i.data ?? '').replace(/ /g, ''), 'hex'));
        }
      } else if (blocks > 0) {
        const items = await q(
          'SELECT t_data FROM generate_series(0, ? - 1) b, heap_page_items(get_raw_page(?, b::int)) WHERE t_data IS NOT NULL',
          [blocks, r.rel],
        );
        for (const i of items) out.push(i.t_data as Buffer);
      }
    }
  }
  return out;
}

describeDb('operations: erasure leaves no physical copies', () => {
  let s: Awaited<ReturnType<typeof setup>>;
  let receiver: http.Server;
  const received: string[] = [];

  beforeAll(async () => {
    receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        received.push(Buffer.concat(chunks).toString('utf8'));
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    // Explicit: settings of an earlier app in this file stay in process.env (ConfigModule copies them there).
    s = await setup({ WEBHOOK_DISPATCH_ENABLED: 'true', WEBHOOK_POLL_INTERVAL_MS: '50', PUBLIC_BASE_URL: 'https://hub.example.com' });
  });
  afterAll(async () => {
    await s?.t.close();
    receiver?.closeAllConnections();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  it('scrubs outbox and webhook delivery copies and purges the old row versions from the database files', async () => {
    const { port } = receiver.address() as AddressInfo;
    await s.t.app.get(WebhookSubscriptionsService).create({ url: `http://127.0.0.1:${port}/hook`, eventTypes: ['*'] }, 'test');
    const box = makeBox(4, 15, { identities: 1 });
    const base = Date.now() - 60_000;
    const mine = [0, 1, 2, 3].map(
      (i) => ({ ...makeRecord(box, base + i, { sceneWidth: 64 }), identity_id: 'scan-me', user_type: 'blacklist' }) as Row,
    );
    mine[0].post_action = '1001'; // a face library entry (with the feature) and a stranger event carrying the image hash
    for (const r of mine) await s.post(r);
    await s.t.drainOutbox();
    const deliveries = async () => s.q('SELECT status, payload FROM webhook_deliveries');
    await eventually(async () => {
      const rows = await deliveries();
      return rows.length >= mine.length && rows.every((r) => r.status === 'succeeded');
    }, 'every webhook delivered');

    const [identity] = await s.q("SELECT id FROM identities WHERE external_id = 'scan-me'");
    const identityId = identity.id as string;
    const records = await s.q('SELECT * FROM recognition_records WHERE identity_id = ?', [identityId]);
    const shas = records.flatMap((r) => IMAGE_COLUMNS.map((c) => r[c] as string | null)).filter((x): x is string => !!x);
    const links = records.map((r) => `/records/${r.id}/images/`);
    // Pieces of every feature vector, also across PostgreSQL's ~2 kB TOAST chunk boundary.
    const features = mine.map((r) => Buffer.from((r.recognize_face_attr as Row).feature_base64_str as string, 'base64'));
    const needles = [
      ...features.flatMap((f) => [0, 700, 1400, 2000].map((at) => ({ what: 'feature vector', bytes: f.subarray(at, at + 40) }))),
      ...shas.map((sha) => ({ what: `image sha256 ${sha}`, bytes: Buffer.from(sha) })),
      ...links.map((l) => ({ what: `image link ${l}`, bytes: Buffer.from(l) })),
    ];
    const found = async () => {
      const stored = await storedBytes(s.t);
      return [...new Set(needles.filter((n) => stored.some((b) => b.includes(n.bytes))).map((n) => n.what))];
    };
    // The scan sees what it looks for while it is stored: vectors, hashes, and links in delivery bodies.
    const before = await found();
    expect(before).toContain('feature vector');
    expect(before.filter((w) => w.startsWith('image link')).length).toBe(links.length);
    expect((await deliveries()).some((d) => links.some((l) => String(d.payload).includes(l)))).toBe(true);
    expect(received.some((body) => links.some((l) => body.includes(l)))).toBe(true);

    const res = await s.t.http().post(`/identities/${identityId}/erasure`).set('x-api-key', ADMIN).expect(200);
    expect(res.body).toMatchObject({ recordsCleared: mine.length, storagePurged: true });
    expect(await found()).toEqual([]);
    expect(res.body.deliveriesScrubbed).toBeGreaterThanOrEqual(mine.length);
    expect(res.body.eventsScrubbed).toBeGreaterThan(0); // the stranger event's image hash
    for (const sha of shas) expect(s.files().has(sha)).toBe(false);
    // Events and deliveries themselves stay (streams and delivery logs keep every event id).
    expect((await deliveries()).length).toBeGreaterThanOrEqual(mine.length);
    const replay = await s.t.app.get(EventFeedService).read({ after: 0, limit: 1000 });
    expect(replay.length).toBeGreaterThanOrEqual(mine.length);
    const replayed = JSON.stringify(replay);
    for (const n of [...shas, ...links]) expect(replayed).not.toContain(n);
  });
});
