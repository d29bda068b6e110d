import * as fs from 'node:fs';
import * as path from 'node:path';
import { Logger } from '@nestjs/common';
import { FaceIndex } from '../src/face-search/face-index';
import { boxRecord, createApiKey, Json, push } from './helpers/api-client';
import { eventually } from './helpers/eventually';
import { canMountSmallFilesystems, mountSmallFilesystem, SmallFilesystem } from './helpers/small-filesystem';
import { filesHolding } from './helpers/snapshot-bytes';
import { featureBase64, syntheticFaces } from './helpers/synthetic-faces';
import { startTestApp, TestApp } from './helpers/test-app';
import { describeDb, queryRows } from './helpers/test-database';

const faces = syntheticFaces(31);
const [erasedFace, keptFace, forgedFace, laterFace] = faces.centres(4);
const sighting = (c: number[]) => faces.sighting(c, 0.3);
const PARAMS = { quantization: 'i8' as const, connectivity: 16, expansionAdd: 64, expansionSearch: 64 };

/**
 * Erasure events meeting a full snapshot disk, and hostile rows in the outbox: the face index drops erased vectors
 * at once, keeps its old snapshot whole until it can write the purge snapshot, and never stops reading the outbox.
 */
describeDb('face index: erasure on a full disk, hostile erasure events', () => {
  let small: SmallFilesystem | undefined;
  let a: TestApp;
  let admin: string;
  let dir: string;
  const logged: string[] = [];
  const erased = [0, 1].map(() => sighting(erasedFace));
  const kept = [0, 1, 2].map(() => sighting(keptFace));
  const forged = sighting(forgedFace);
  const vectors = async () => ((await a.http().get('/health/ready')).body?.info?.faceIndex?.vectors as number) ?? -1;
  const record = (identity: string, feature: number[], i: number): Json => {
    const base = boxRecord({ identity, timestamp: Date.now() - 60_000 + i });
    return { ...base, recognize_face_attr: { ...(base.recognize_face_attr as Json), feature_base64_str: featureBase64(feature) } };
  };
  const search = async (feature: number[]) => {
    const res = await a.http().post('/faces/search').set('x-api-key', admin).send({ feature, minSimilarity: -1, limit: 50 }).expect(200);
    return (res.body.items as Json[]).map((i) => (i.record as Json).identityExternalId as string);
  };

  beforeAll(async () => {
    for (const level of ['warn', 'error'] as const) {
      jest.spyOn(Logger.prototype, level).mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(' ')));
    }
    small = canMountSmallFilesystems ? mountSmallFilesystem(4 << 20) : undefined;
    dir = small ? path.join(small.dir, 'face-index') : fs.mkdtempSync('/tmp/face-index-erasure-faults-');
    a = await startTestApp({
      env: {
        FACE_SEARCH_SNAPSHOT_DIR: dir,
        FACE_SEARCH_POLL_MS: '100',
        FACE_SEARCH_SNAPSHOT_INTERVAL_MS: '300',
        FACE_SEARCH_EXPANSION_SEARCH: '64',
        // The graph is built (from 4 vectors): its file and usearch's memory hold the vectors too.
        FACE_SEARCH_EXACT_BELOW: '3',
        WEBHOOK_DISPATCH_ENABLED: 'false',
      },
    });
    admin = (await createApiKey(a, 'admin')).key;
    await push(a, [
      ...erased.map((f, i) => record('erase-me', f, i)),
      ...kept.map((f, i) => record('keep-me', f, 10 + i)),
      record('forged', forged, 20),
    ]);
    await eventually(async () => (await vectors()) === 6, 'every record indexed');
    await eventually(() => filesHolding(dir, erased).some((n) => n.endsWith('.usearch')), 'a snapshot with the graph', 10_000);
  }, 60_000);

  afterAll(async () => {
    await a?.close();
    jest.restoreAllMocks();
    small?.unmount();
    if (!small) fs.rmSync(dir, { recursive: true, force: true });
  });

  (canMountSmallFilesystems ? it : it.skip)(
    'erasure with the snapshot disk full: out of the index at once, the old snapshot whole, purged once space is back',
    async () => {
      small!.fill();
      // Nothing changes now: the snapshot on disk is the one the purge snapshot must replace, whole or not at all.
      const before = new Map(fs.readdirSync(dir).map((n) => [n, fs.readFileSync(path.join(dir, n))]));
      const [identity] = await queryRows<{ id: string }>(a.dataSource, `SELECT id FROM identities WHERE external_id = 'erase-me'`);
      const report = await a.http().post(`/identities/${identity.id}/erasure`).set('x-api-key', admin).expect(200);
      expect(report.body.recordsCleared).toBe(2);
      await eventually(async () => (await vectors()) === 4, 'the erased vectors out of the index', 5_000);
      expect(await search(erasedFace)).not.toContain('erase-me');
      await eventually(() => logged.some((m) => /face index purge snapshot not written/.test(m)), 'the failed purge snapshot logged');
      expect(fs.readdirSync(dir).sort()).toEqual([...before.keys()].sort());
      for (const [name, bytes] of before) expect(fs.readFileSync(path.join(dir, name)).equals(bytes)).toBe(true);
      expect(FaceIndex.load(dir, PARAMS)!.index.size).toBe(6);
      expect((await a.http().get('/health/ready')).status).toBe(200);

      small!.free();
      await eventually(() => filesHolding(dir, erased).length === 0, 'no snapshot file with an erased vector once space is back', 10_000);
      expect(filesHolding(dir, kept).filter((n) => n.endsWith('.vectors'))).toHaveLength(1);
      expect(FaceIndex.load(dir, PARAMS)!.index.size).toBe(4);
      expect(logged.join('\n')).not.toMatch(/[A-Za-z0-9+/]{64}/);
    },
  );

  it('hostile erasure and retention rows in the outbox: passed over, no stall, no crash, nothing of them logged', async () => {
    const start = await vectors();
    const [forgedRecord] = await queryRows<{ id: string }>(
      a.dataSource,
      `SELECT r.id FROM recognition_records r WHERE r.identity_external_id = 'forged'`,
    );
    const blob = featureBase64(forged);
    const payloads: [string, string][] = [
      ['identity.biometrics-erased', 'null'],
      ['identity.biometrics-erased', 'not json {'],
      ['identity.biometrics-erased', `"${blob}"`],
      ['identity.biometrics-erased', '[1,2,3]'],
      ['identity.biometrics-erased', '{}'],
      ['identity.biometrics-erased', JSON.stringify({ erasure: { recordIds: forgedRecord.id } })],
      [
        'identity.biometrics-erased',
        JSON.stringify({ erasure: { recordIds: [1, null, {}, [forgedRecord.id], { id: forgedRecord.id }, blob] } }),
      ],
      ['retention.records-deleted', JSON.stringify({ deletion: { recordIds: Array.from({ length: 200_000 }, (_, i) => `gone-${i}`) } })],
      ['retention.records-deleted', JSON.stringify({ deletion: null, junk: { deep: [[[{ recordIds: [forgedRecord.id] }]]] } })],
      ['recognition.recorded', JSON.stringify({ record: { recordId: { id: 1 } } })],
      // The good one after them: names a record that keeps its feature, so only this event can take it out.
      ['retention.records-deleted', JSON.stringify({ deletion: { recordIds: [forgedRecord.id] } })],
    ];
    const now = Date.now();
    for (const [type, payload] of payloads) {
      await queryRows(
        a.dataSource,
        `INSERT INTO outbox_events (type, aggregate_id, payload, created_at, available_at, attempts) VALUES (?, 'hostile', ?, ?, ?, 0)`,
        [type, payload, now, now],
      );
    }
    await eventually(async () => (await vectors()) === start - 1, 'the forged-deleted record out of the index', 10_000);
    expect(await search(forgedFace)).not.toContain('forged');
    // Still reading the outbox: a record stored after the hostile rows is indexed.
    await push(a, record('later', sighting(laterFace), 30));
    await eventually(async () => (await search(laterFace))[0] === 'later', 'the later record indexed', 10_000);
    expect((await a.http().get('/health/ready')).status).toBe(200);
    expect(logged.filter((m) => /face index update failed/.test(m))).toEqual([]);
    expect(logged.join('\n')).not.toMatch(/[A-Za-z0-9+/]{64}/);
  });
});
