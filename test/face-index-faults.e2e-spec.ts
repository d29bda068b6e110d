import * as fs from 'node:fs';
import * as path from 'node:path';
import { boxRecordWithOwnFace, Json } from './helpers/api-client';
import { eventually } from './helpers/eventually';
import { canMountSmallFilesystems, mountSmallFilesystem, SmallFilesystem } from './helpers/small-filesystem';
import { ServerProcess, spawnServer } from './helpers/spawn-server';
import { CALLBACK_PATH } from './helpers/test-app';
import { createTestDatabase, describeDb, TestDatabase } from './helpers/test-database';

const ADMIN = 'face-index-faults-admin-key-0123456789';
const T = 1_760_000_000_000;
const META = 'face-index.json';

const recordOf = (i: number) => boxRecordWithOwnFace({ identity: `FX-${i}`, box: `FX-BOX-${i % 2}`, timestamp: T + i * 1000 });
const featureOf = (i: number) => (recordOf(i).recognize_face_attr as Json).feature_base64_str as string;

/** The face index of a hub whose snapshot directory fills up or is damaged: it keeps serving, and never loads a bad snapshot. */
describeDb('face index snapshot faults', () => {
  let db: TestDatabase;
  let small: SmallFilesystem | undefined;
  let snapshotDir: string;
  let server: ServerProcess | undefined;
  let stored = 0;

  beforeAll(async () => {
    recordOf(0); // the fixtures are generated on first use, which may take seconds on a loaded machine
    db = await createTestDatabase();
    small = canMountSmallFilesystems ? mountSmallFilesystem(4 << 20) : undefined;
    snapshotDir = path.join(small?.dir ?? db.dataDir, 'face-index');
  });
  afterAll(async () => {
    server?.kill('SIGKILL');
    await server?.exited;
    small?.unmount();
    await db?.drop();
  });

  const start = async () => {
    server = await spawnServer({
      ...db.env,
      ADMIN_API_KEY: ADMIN,
      LOG_LEVEL: 'info',
      FACE_SEARCH_SNAPSHOT_DIR: snapshotDir,
      FACE_SEARCH_POLL_MS: '100',
      FACE_SEARCH_SNAPSHOT_INTERVAL_MS: '300',
    });
    return server;
  };
  const http = (p: string, init: RequestInit = {}) =>
    fetch(server!.url + p, { ...init, headers: { 'x-api-key': ADMIN, 'content-type': 'application/json', ...init.headers } });
  const search = async (body: Json) => {
    const res = await http('/faces/search', { method: 'POST', body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Json };
  };
  const pushMore = async (n: number) => {
    for (const end = stored + n; stored < end; stored++) {
      const res = await fetch(server!.url + CALLBACK_PATH, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(recordOf(stored)),
      });
      expect(res.status).toBe(200);
    }
  };
  /** Record `i` is its own nearest face. */
  const findsRecord = async (i: number): Promise<boolean> => {
    const res = await search({ feature: featureOf(i), limit: 1, minSimilarity: 0.99 });
    return res.status === 200 && ((res.body.items as Json[])[0]?.record as Json | undefined)?.identityExternalId === `FX-${i}`;
  };
  /** The index holds every stored record once (a search without threshold returns them all), and finds them by face. */
  const findsEveryRecord = async (what: string) => {
    await eventually(async () => {
      const res = await search({ feature: featureOf(0), limit: 200, minSimilarity: -1 });
      const names = ((res.body.items as Json[] | undefined) ?? []).map((item) => (item.record as Json).identityExternalId).sort();
      const want = Array.from({ length: stored }, (_, i) => `FX-${i}`).sort();
      return res.status === 200 && res.body.searched === stored && JSON.stringify(names) === JSON.stringify(want);
    }, `${what}: all ${stored} records in the index`);
    for (const i of [0, stored >> 1, stored - 1]) await eventually(() => findsRecord(i), `${what}: record ${i} found by its face`);
  };
  /** Vectors in the snapshot on disk (the key table lists every key; removed ones are ''). */
  const snapshotVectors = (): number => {
    try {
      const text = fs.readFileSync(path.join(snapshotDir, META), 'utf8');
      return (JSON.parse(text.slice(text.indexOf('\n') + 1)) as { ids: string[] }).ids.filter(Boolean).length;
    } catch {
      return -1;
    }
  };
  const restart = async (signal: NodeJS.Signals) => {
    server!.kill(signal);
    expect(await server!.exited).toBe(signal === 'SIGKILL' ? 'SIGKILL' : 0);
    await start();
    await eventually(async () => (await http('/health/ready')).status === 200, 'ready after the restart', 30_000);
  };
  const noBiometrics = (log: string) => expect(log).not.toMatch(/[A-Za-z0-9+/]{100}/);

  (canMountSmallFilesystems ? it : it.skip)(
    'snapshot directory full: ingest and search go on, the previous snapshot stays whole, a kill -9 then restarts from it',
    async () => {
      await start();
      await pushMore(12);
      await findsEveryRecord('before the disk filled');
      await eventually(() => snapshotVectors() === 12, 'a snapshot of 12 vectors');

      small!.fill();
      try {
        await pushMore(8);
        await findsEveryRecord('disk full');
        const failed = await eventually(
          () => server!.output().match(/^.*face index snapshot not written.*$/m)?.[0],
          'the failed snapshot to be logged',
        );
        expect(failed).toMatch(/ENOSPC|bytes free/);
        noBiometrics(server!.output());
        expect((await http('/health/ready')).status).toBe(200);
        // The previous snapshot is whole, and nothing half-written is left taking space: its files and at most the
        // pair before it.
        expect(snapshotVectors()).toBe(12);
        await eventually(() => {
          const names = fs.readdirSync(snapshotDir);
          const stems = (ext: string) =>
            names
              .filter((n) => n.endsWith(ext))
              .map((n) => n.slice(0, -ext.length))
              .sort();
          const pairs = stems('.usearch');
          return (
            names.length === 2 * pairs.length + 1 &&
            pairs.length <= 2 &&
            names.includes(META) &&
            JSON.stringify(stems('.vectors')) === JSON.stringify(pairs)
          );
        }, 'no partial snapshot file left on the full disk');

        // Killed with the disk still full: the start loads the older snapshot and catches up from the database.
        await restart('SIGKILL');
        await findsEveryRecord('after kill -9 on a full disk');
        expect(server!.output().match(/face index ready: \d+ vectors \([^)]*\)/)?.[0]).toBe('face index ready: 20 vectors (snapshot)');
      } finally {
        // Space back: the next interval writes a snapshot again, by itself.
        small!.free();
      }
      await eventually(() => snapshotVectors() === 20, 'a snapshot of 20 vectors once space returned');
    },
  );

  it.each([
    ['the index file truncated', (f: SnapshotFiles) => fs.truncateSync(f.index, 10)],
    ['bytes of the vector copy changed', (f: SnapshotFiles) => flipBytes(f.vectors)],
  ])('a snapshot with %s is rebuilt from the database at start: no crash, no wrong answer', async (_, damage) => {
    if (!server) {
      await start();
      await pushMore(20);
    }
    await pushMore(2);
    await findsEveryRecord('before the restart');
    // A clean stop writes the snapshot; then it is damaged.
    server!.kill('SIGTERM');
    expect(await server!.exited).toBe(0);
    expect(snapshotVectors()).toBe(stored);
    damage(snapshotFiles(snapshotDir));
    await start();
    await eventually(async () => (await http('/health/ready')).status === 200, 'ready after the restart', 30_000);
    const log = server!.output();
    expect(log.match(/face index snapshot in .* unusable, rebuilding from the database[^"]*/)?.[0]).toBeDefined();
    expect(log.match(/face index ready: \d+ vectors \([^)]*\)/)?.[0]).toBe(
      `face index ready: ${stored} vectors (rebuilt from the database)`,
    );
    noBiometrics(server!.output());
    await findsEveryRecord('after the rebuild');
  });
});

interface SnapshotFiles {
  index: string;
  vectors: string;
}

/** The two files the key table names. */
function snapshotFiles(dir: string): SnapshotFiles {
  const text = fs.readFileSync(path.join(dir, META), 'utf8');
  const meta = JSON.parse(text.slice(text.indexOf('\n') + 1)) as { indexFile: string; vectorsFile: string };
  return { index: path.join(dir, meta.indexFile), vectors: path.join(dir, meta.vectorsFile) };
}

/** Inverts bytes in the middle of a file, keeping its size (what a bad sector or a torn write leaves). */
function flipBytes(file: string): void {
  const bytes = fs.readFileSync(file);
  for (let i = Math.floor(bytes.length / 2); i < Math.floor(bytes.length / 2) + 64; i++) bytes[i] ^= 0xff;
  fs.writeFileSync(file, bytes);
}
