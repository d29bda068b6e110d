import * as fs from 'node:fs';
import * as path from 'node:path';
import { RetentionService } from '../src/retention/retention.service';
import { boxRecord, createApiKey, Json, push } from './helpers/api-client';
import { eventually } from './helpers/eventually';
import { startTestApp, TestApp } from './helpers/test-app';
import { describeDb, queryRows, testDbKind } from './helpers/test-database';
import { featureBase64, syntheticFaces } from './helpers/synthetic-faces';
import { filesHolding, storedForms } from './helpers/snapshot-bytes';

const DAY = 86_400_000;
const faces = syntheticFaces(29);
const [erasedFace, expiredFace, keptFace] = faces.centres(3);
const sighting = (c: number[]) => faces.sighting(c, 0.3);
const withFeature = (record: Json, feature: number[]): Json => ({
  ...record,
  recognize_face_attr: { ...(record.recognize_face_attr as Json), feature_base64_str: featureBase64(feature) },
});

/**
 * Erasure and retention take records' vectors out of every instance's face index and out of the snapshot files on
 * disk, within seconds (README "Face search"): by the events they write, not by searches meeting the records.
 */
describeDb('face index: erased and expired vectors leave the index and its snapshot files', () => {
  const dirA = `/tmp/face-index-erasure-${process.pid}-${testDbKind()}`;
  const dirB = `${dirA}-b`;
  const env = {
    FACE_SEARCH_SNAPSHOT_DIR: dirA,
    FACE_SEARCH_POLL_MS: '100',
    FACE_SEARCH_SNAPSHOT_INTERVAL_MS: '200',
    RETENTION_RECORD_DAYS: '30',
    // Erasure and retention write one event per batch: three erased records make two events.
    RETENTION_BATCH_SIZE: '2',
    WEBHOOK_DISPATCH_ENABLED: 'false',
    // The graph is built once the index holds 5 vectors (its file holds them then, and must lose them too).
    FACE_SEARCH_EXACT_BELOW: '5',
  };
  let a: TestApp;
  /** A second instance on the same PostgreSQL, with its own index and snapshot directory. */
  let b: TestApp | undefined;
  let admin: string;
  const erased = [0, 1, 2].map(() => sighting(erasedFace));
  const expired = [0, 1].map(() => sighting(expiredFace));
  const kept = [0, 1, 2].map(() => sighting(keptFace));
  const vectors = async (t: TestApp) => ((await t.http().get('/health/ready')).body?.info?.faceIndex?.vectors as number) ?? -1;

  beforeAll(async () => {
    for (const dir of [dirA, dirB]) fs.rmSync(dir, { recursive: true, force: true });
    a = await startTestApp({ env });
    admin = (await createApiKey(a, 'admin')).key;
    if (testDbKind() === 'postgres') b = await startTestApp({ env: { ...env, FACE_SEARCH_SNAPSHOT_DIR: dirB }, db: a.db });
    const now = Date.now();
    await push(a, [
      ...erased.map((f, i) => withFeature(boxRecord({ identity: 'erase-me', timestamp: now - DAY + i }), f)),
      ...expired.map((f, i) => withFeature(boxRecord({ identity: 'expired', timestamp: now - 40 * DAY + i }), f)),
      ...kept.map((f, i) => withFeature(boxRecord({ identity: 'keep-me', timestamp: now - DAY + 10 + i }), f)),
    ]);
    for (const t of [a, b]) if (t) await eventually(async () => (await vectors(t)) === 8, 'every record indexed');
    // A snapshot holding them, then another (a new record makes the index change): the current and the previous
    // snapshot both hold the vectors, as in production between two intervals.
    await eventually(() => filesHolding(dirA, erased).length > 0, 'a snapshot with the vectors', 10_000);
    await push(a, withFeature(boxRecord({ identity: 'keep-me', timestamp: now - DAY + 20 }), sighting(keptFace)));
    for (const [t, dir] of [
      [a, dirA],
      [b, dirB],
    ] as const) {
      if (!t) continue;
      await eventually(async () => (await vectors(t)) === 9, 'the last record indexed');
      await eventually(
        () => filesHolding(dir, [...erased, ...expired]).filter((n) => n.endsWith('.usearch')).length === 2,
        'two snapshots with the vectors',
        10_000,
      );
    }
  }, 60_000);

  afterAll(async () => {
    await b?.app.close();
    await a?.close();
    for (const dir of [dirA, dirB]) fs.rmSync(dir, { recursive: true, force: true });
  });

  const search = async (t: TestApp, feature: number[]) => {
    const key = (await createApiKey(t, 'biometric-reader')).key;
    const res = await t.http().post('/faces/search').set('x-api-key', key).send({ feature, minSimilarity: -1, limit: 200 }).expect(200);
    return (res.body.items as Json[]).map((i) => (i.record as Json).identityExternalId as string);
  };

  it('erasure: every instance drops the vectors and rewrites its snapshot without them, the previous one deleted', async () => {
    // Both stored forms are found before (the i8 copy's, and one of the graph's in its file): the scan below can see them.
    const before = storedForms(erased[0]);
    const held = (name: string, forms: Buffer[]) => forms.some((form) => fs.readFileSync(path.join(dirA, name)).includes(form));
    expect(fs.readdirSync(dirA).some((n) => n.endsWith('.vectors') && held(n, [before.copy]))).toBe(true);
    expect(fs.readdirSync(dirA).some((n) => n.endsWith('.usearch') && held(n, before.graph))).toBe(true);
    const identities = await queryRows<{ id: string }>(a.dataSource, `SELECT id FROM identities WHERE external_id = 'erase-me'`);
    const report = await a.http().post(`/identities/${identities[0].id}/erasure`).set('x-api-key', admin).expect(200);
    expect(report.body.recordsCleared).toBe(3);
    for (const [t, dir] of [
      [a, dirA],
      [b, dirB],
    ] as const) {
      if (!t) continue;
      // No search has met them: the index count drops by the event alone.
      await eventually(async () => (await vectors(t)) === 6, 'the erased vectors out of the index', 10_000);
      await eventually(
        () => filesHolding(dir, erased).length === 0,
        `no snapshot file in ${path.basename(dir)} with an erased vector`,
        10_000,
      );
      expect(filesHolding(dir, kept).filter((n) => n.endsWith('.usearch'))).toHaveLength(1);
      expect(filesHolding(dir, expired).filter((n) => n.endsWith('.usearch'))).toHaveLength(1);
      const found = await search(t, erasedFace);
      expect(found).not.toContain('erase-me');
      expect(found.filter((n) => n === 'keep-me')).toHaveLength(4);
    }
    // One event per erasure batch, naming records only.
    const events = await queryRows<{ payload: string }>(
      a.dataSource,
      `SELECT payload FROM outbox_events WHERE type = 'identity.biometrics-erased'`,
    );
    const payloads = events.map((e) => (typeof e.payload === 'string' ? JSON.parse(e.payload) : e.payload) as Json);
    expect(payloads.map((p) => ((p.erasure as Json).recordIds as string[]).length).sort()).toEqual([1, 2]);
    expect(JSON.stringify(payloads)).not.toMatch(/[A-Za-z0-9+/]{100}/);
  });

  it('retention: expired records leave every index and snapshot too', async () => {
    const report = await a.app.get(RetentionService).purgeExpired();
    expect(report.recordsDeleted).toBe(2);
    for (const [t, dir] of [
      [a, dirA],
      [b, dirB],
    ] as const) {
      if (!t) continue;
      await eventually(async () => (await vectors(t)) === 4, 'the expired vectors out of the index', 10_000);
      await eventually(
        () => filesHolding(dir, expired).length === 0,
        `no snapshot file in ${path.basename(dir)} with an expired vector`,
        10_000,
      );
      expect(filesHolding(dir, kept).filter((n) => n.endsWith('.usearch'))).toHaveLength(1);
      expect(await search(t, expiredFace)).not.toContain('expired');
    }
  });
});
