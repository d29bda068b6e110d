#!/usr/bin/env node
// Face search benchmark: seeds --records records with synthetic faces straight into the database,
// starts the built hub, and measures over HTTP: start-to-ready, RSS, search latency p50/p95/p99 with and without
// filters, recall@10 against exact brute force, and ingest throughput with the index on vs off.
//
//   node bench/faces.mjs [--records 1000000] [--pg postgres://…] [--queries 200] [--ingest-seconds 8]
//
// Synthetic people: each has a random unit centre in 512-d (Gaussian, normalised); a sighting is the centre plus
// Gaussian noise whose squared length is uniform in 0.33..0.82 of the centre's, normalised. Two sightings of one
// person then have cosine 1/sqrt((1+a)(1+b)), about 0.55-0.75; two people about 0 (sd 1/sqrt(512) = 0.044).
// Records map to people as bench/seed-records.mjs maps them to identities (one identity = one person), about
// 5 records per person. Generation is seeded: the same options give the same vectors.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import {
  freshPostgresDatabase,
  machine,
  parseFlags,
  percentile,
  REPO,
  requireBuild,
  rssMiB,
  sleep,
  startHub,
  WORK,
  writeResult,
} from './lib/common.mjs';
import { D, rngOf, sightingOf } from './lib/synthetic-people.mjs';
import { seedPostgres, seedSqlite } from './seed-records.mjs';

const opts = parseFlags(process.argv.slice(2), {
  records: 1_000_000,
  pg: '',
  queries: 200,
  ingestSeconds: 8,
  devices: 100,
  reuse: false,
  keepSnapshot: false,
});
requireBuild();
const N = opts.records;
const people = Math.max(1, Math.floor(N / 5));

/** bench/seed-records.mjs's record i: its id and its identity (= person). */
function recordOf(i) {
  const h = (i * 2654435761) % 4294967296;
  return {
    id: `${h.toString(16).padStart(8, '0')}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
    person: Math.floor(h / opts.devices) % people,
  };
}
const bytesOf = (v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

// Probes: new sightings of random people (not stored), with exact top-10 found by brute force while seeding.
const probeRng = rngOf(99);
const probes = Array.from({ length: opts.queries }, (_, q) => sightingOf(Math.floor(probeRng() * people), 10_000_000 + q));
const top = probes.map(() => []);
function consider(id, v) {
  for (let q = 0; q < probes.length; q++) {
    const pv = probes[q];
    let dot = 0;
    for (let k = 0; k < D; k++) dot += pv[k] * v[k];
    const t = top[q];
    if (t.length < 10 || dot > t[t.length - 1].s) {
      t.push({ id, s: dot });
      t.sort((a, b) => b.s - a.s);
      if (t.length > 10) t.pop();
    }
  }
}

const dataDir = path.join(WORK, `faces-${opts.pg ? 'pg' : 'sqlite'}-${N}`);
const stateFile = path.join(dataDir, 'seed.json');
// --reuse (SQLite only): keep the database seeded by an earlier run with the same --records; vectors are regenerated.
const reuse = opts.reuse && !opts.pg && fs.existsSync(stateFile);
if (!reuse) {
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.mkdirSync(dataDir, { recursive: true });
}
// --keep-snapshot (with --reuse): start from the snapshot an earlier run wrote, skipping the rebuild measurement.
const keepSnapshot = reuse && opts.keepSnapshot && fs.existsSync(path.join(dataDir, 'face-index'));
if (!keepSnapshot) fs.rmSync(path.join(dataDir, 'face-index'), { recursive: true, force: true });
const pgDb = opts.pg ? await freshPostgresDatabase(opts.pg, 'rh_bench_faces') : null;
const result = { machine: machine(), records: N, people, database: pgDb ? 'postgres' : 'sqlite' };
try {
  let t = Date.now();
  let world;
  if (reuse) {
    world = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
    for (let i = 0; i < N; i++) {
      const r = recordOf(i);
      consider(r.id, sightingOf(r.person, i));
    }
  } else {
    const migrate = await startHub({ dataDir, databaseUrl: pgDb?.url, env: { FACE_SEARCH_ENABLED: 'false' } });
    await migrate.stop();
    console.error(`seeding ${N.toLocaleString('en')} records (${people.toLocaleString('en')} people)…`);
    const seedOpts = { count: N, identities: people, devices: opts.devices, batch: Math.min(100_000, N) };
    world = pgDb
      ? await seedPostgres(pgDb.url, seedOpts, () => {})
      : seedSqlite(path.join(dataDir, 'recognition-hub.sqlite'), seedOpts, () => {});
    // The seed's features are random bytes: replace them with the synthetic people's sightings.
    const BATCH = 5000;
    if (pgDb) {
      const c = new pg.Client({ connectionString: pgDb.url });
      await c.connect();
      await c.query('SET synchronous_commit = off');
      for (let from = 0; from < N; from += BATCH) {
        const ids = [];
        const feats = [];
        for (let i = from; i < Math.min(N, from + BATCH); i++) {
          const r = recordOf(i);
          const v = sightingOf(r.person, i);
          consider(r.id, v);
          ids.push(r.id);
          feats.push(bytesOf(v));
        }
        await c.query(
          'UPDATE recognition_records r SET feature = u.f FROM unnest($1::varchar[], $2::bytea[]) AS u(id, f) WHERE r.id = u.id',
          [ids, feats],
        );
      }
      await c.query('VACUUM ANALYZE recognition_records');
      await c.end();
    } else {
      const db = new Database(path.join(dataDir, 'recognition-hub.sqlite'));
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = OFF');
      const upd = db.prepare('UPDATE recognition_records SET feature = ? WHERE id = ?');
      for (let from = 0; from < N; from += BATCH) {
        db.transaction(() => {
          for (let i = from; i < Math.min(N, from + BATCH); i++) {
            const r = recordOf(i);
            const v = sightingOf(r.person, i);
            consider(r.id, v);
            upd.run(bytesOf(v), r.id);
          }
        })();
      }
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.close();
    }
    fs.writeFileSync(stateFile, JSON.stringify({ boxes: world.boxes.map((b) => ({ id: b.id })), t0: world.t0 }));
  }
  result.seedSeconds = (Date.now() - t) / 1000;
  console.error(`seeded with features in ${result.seedSeconds.toFixed(0)} s`);

  const adminKey = 'bench-faces-admin-key-0000000000000000000';
  const env = { ADMIN_API_KEY: adminKey, FACE_SEARCH_SNAPSHOT_INTERVAL_MS: '0' };
  // Also times /health/live while the index loads: the event loop must keep answering during a rebuild.
  let liveMs = [];
  const ready = async (hub) => {
    liveMs = [];
    for (;;) {
      const s = performance.now();
      const live = await fetch(`${hub.base}/health/live`).catch(() => null);
      if (live?.status === 200) liveMs.push(performance.now() - s);
      const res = await fetch(`${hub.base}/health/ready`).catch(() => null);
      if (res?.status === 200) return;
      await sleep(200);
    }
  };
  // Start 1: no snapshot, the index is built from the database. Start 2: from the snapshot written at shutdown.
  for (const label of keepSnapshot ? ['snapshot'] : ['rebuild', 'snapshot']) {
    t = Date.now();
    const hub = await startHub({ dataDir, databaseUrl: pgDb?.url, env });
    await ready(hub);
    result[`startToReady_${label}_s`] = (Date.now() - t) / 1000;
    result[`rssAfterStart_${label}_MiB`] = Math.round(rssMiB(hub.pid));
    liveMs.sort((x, y) => x - y);
    result[`healthLiveWhileLoading_${label}`] = liveMs.length
      ? { samples: liveMs.length, p50: +percentile(liveMs, 50).toFixed(1), max: +liveMs[liveMs.length - 1].toFixed(1) }
      : null;
    console.error(
      `ready after ${result[`startToReady_${label}_s`]} s (${label}), RSS ${result[`rssAfterStart_${label}_MiB`]} MiB, /health/live while loading ${JSON.stringify(result[`healthLiveWhileLoading_${label}`])}`,
    );
    if (label === 'rebuild') {
      await hub.stop();
      continue;
    }
    const searchOnce = async (body) => {
      const s = performance.now();
      const res = await fetch(`${hub.base}/faces/search`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': adminKey },
        body: JSON.stringify(body),
      });
      const json = await res.json();
      if (res.status !== 200) throw new Error(`search answered ${res.status}: ${JSON.stringify(json)}`);
      return { ms: performance.now() - s, json };
    };
    // Reference on the same hub under the same load: a plain read of one record summary, after every search.
    const rnd = rngOf(5);
    const readRnd = rngOf(6);
    const readOnce = async () => {
      const s = performance.now();
      const res = await fetch(`${hub.base}/records/${recordOf(Math.floor(readRnd() * N)).id}`, { headers: { 'x-api-key': adminKey } });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`GET /records/{id} answered ${res.status}`);
      return performance.now() - s;
    };
    const reference = [];
    for (let q = 0; q < 10; q++) await searchOnce({ feature: bytesOf(probes[q]).toString('base64'), limit: 10, minSimilarity: -1 });
    const scenarios = {
      'no filter': () => ({}),
      'one box (1 of 20)': () => ({ boxId: world.boxes[Math.floor(rnd() * world.boxes.length)].id }),
      '7-day window': () => ({ from: world.t0 + Math.floor(rnd() * 80) * 86_400_000, to: undefined }),
    };
    let hits = 0;
    let strong = 0;
    let strongHits = 0;
    for (const [name, filterOf] of Object.entries(scenarios)) {
      const lat = [];
      for (let q = 0; q < probes.length; q++) {
        const f = filterOf();
        if (f.from !== undefined) f.to = f.from + 7 * 86_400_000;
        const { ms, json } = await searchOnce({ feature: bytesOf(probes[q]).toString('base64'), limit: 10, minSimilarity: -1, ...f });
        lat.push(ms);
        reference.push(await readOnce());
        if (name === 'no filter') {
          const exact = new Set(top[q].map((x) => x.id));
          hits += json.items.filter((i) => exact.has(i.record.id)).length;
          // The exact top 10 holds the person's own sightings (cosine about 0.5-0.75) and then noise-level strangers
          // (about 0.15): count separately how many of those at or above the default minSimilarity were found.
          const got = new Set(json.items.map((i) => i.record.id));
          for (const x of top[q]) {
            if (x.s < 0.4) continue;
            strong++;
            if (got.has(x.id)) strongHits++;
          }
        }
      }
      lat.sort((a, b) => a - b);
      result[`search ${name}`] = {
        p50: +percentile(lat, 50).toFixed(1),
        p95: +percentile(lat, 95).toFixed(1),
        p99: +percentile(lat, 99).toFixed(1),
      };
      console.error(
        `search, ${name}: p50 ${result[`search ${name}`].p50} ms, p95 ${result[`search ${name}`].p95} ms, p99 ${result[`search ${name}`].p99} ms`,
      );
    }
    reference.sort((a, b) => a - b);
    result['reference GET /records/{id}'] = {
      p50: +percentile(reference, 50).toFixed(1),
      p95: +percentile(reference, 95).toFixed(1),
      p99: +percentile(reference, 99).toFixed(1),
    };
    console.error(`reference, GET /records/{id} after each search: ${JSON.stringify(result['reference GET /records/{id}'])} ms`);
    result.recallAt10 = hits / (probes.length * 10);
    result.recallAt10AboveMinSimilarity = strong ? strongHits / strong : null;
    result.exactMatchesAboveMinSimilarityPerProbe = strong / probes.length;
    result.rssAfterSearches_MiB = Math.round(rssMiB(hub.pid));
    console.error(
      `recall@10 ${result.recallAt10.toFixed(3)} (of matches >= 0.4: ${result.recallAt10AboveMinSimilarity?.toFixed(3)}), RSS ${result.rssAfterSearches_MiB} MiB`,
    );
    await hub.stop();
  }

  // Ingest with the index on vs off: fresh databases, the same records, alternating runs.
  const ingest = { on: [], off: [] };
  for (const mode of opts.ingestSeconds > 0 ? ['off', 'on', 'off', 'on'] : []) {
    const dir = path.join(dataDir, `ingest-${mode}`);
    fs.rmSync(dir, { recursive: true, force: true });
    const db = opts.pg ? await freshPostgresDatabase(opts.pg, 'rh_bench_faces_ingest') : null;
    const hub = await startHub({ dataDir: dir, databaseUrl: db?.url, env: { FACE_SEARCH_ENABLED: mode === 'on' ? 'true' : 'false' } });
    await ready(hub);
    let n = 0;
    const end = Date.now() + opts.ingestSeconds * 1000;
    const worker = async (w) => {
      while (Date.now() < end) {
        const i = n++;
        const body = {
          mq_license_key: `FACEBENCH${w % 4}`,
          timestamp: 1_790_000_000_000 + i,
          media_device_info: { media_device_id: `cam-${w}`, media_device_name: `cam ${w}` },
          identity_id: `person-${i % 1000}`,
          identity_name: `person ${i % 1000}`,
          user_type: 'employee',
          post_action: '0',
          score: 90,
          recognize_face_attr: { feature_base64_str: bytesOf(sightingOf(i % 1000, i)).toString('base64') },
        };
        const res = await fetch(hub.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        if (res.status !== 200) throw new Error(`push answered ${res.status}`);
        await res.arrayBuffer();
      }
    };
    const s = Date.now();
    await Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)));
    ingest[mode].push(n / ((Date.now() - s) / 1000));
    await hub.stop();
    await db?.drop();
  }
  const avg = (a) => a.reduce((x, y) => x + y, 0) / a.length;
  if (opts.ingestSeconds > 0) {
    result.ingest = { offRecordsPerSecond: +avg(ingest.off).toFixed(1), onRecordsPerSecond: +avg(ingest.on).toFixed(1) };
    result.ingest.ratio = +(result.ingest.onRecordsPerSecond / result.ingest.offRecordsPerSecond).toFixed(3);
    console.error(
      `ingest: index off ${result.ingest.offRecordsPerSecond} records/s, on ${result.ingest.onRecordsPerSecond} (${result.ingest.ratio}x)`,
    );
  }
  writeResult(`faces-${result.database}-${N}`, result);
  console.log(JSON.stringify(result, null, 2));
} finally {
  await pgDb?.drop();
}

// The linking half of `npm run bench:faces` is bench/faces-linking.mjs (persons); run here only when it exists.
if (!fs.existsSync(path.join(REPO, 'bench/faces-linking.mjs'))) console.error('bench/faces-linking.mjs not present: linking not measured');
