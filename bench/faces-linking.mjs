#!/usr/bin/env node
// Linking quality of persons (src/persons): seeded synthetic people, each seen at several boxes, where every box
// registers the stranger in its own library (post_action 1001, so one human arrives as several identities).
// Pushed to the hub over HTTP, then every pair of identities is scored: same person by the generator (truth)
// against same personId in GET /identities/{id} (prediction), at the default PERSON_* thresholds unless given.
// Also times one exact scan of the in-memory first-face matrix at --scan identities (the cost each new identity
// pays) and reports its memory.
//
//   node bench/faces-linking.mjs [--db sqlite|postgres] [--people 300] [--boxes 5] [--strangers 300] [--scan 50000]
//
// Distribution (stated, seeded): a person's centre c is a random unit vector in R^512; a sighting is
// normalise(c + n) with n ~ N(0, sigma^2/512 I) and sigma drawn per sighting from U(0.58, 0.90), so ||n|| ~ sigma
// and two sightings of one person have cosine ~ 1/sqrt((1+s1^2)(1+s2^2)), between about 0.55 and 0.75;
// two different people have cosine ~ N(0, 1/512) (sd 0.044). Each person is seen at 2..--boxes boxes;
// --strangers more people are seen at one box only (distractors, never to be linked).
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import {
  dropPostgresDatabase,
  freshPostgresDatabase,
  freshDir,
  machine,
  parseFlags,
  REPO,
  requireBuild,
  sleep,
  startHub,
  writeResult,
} from './lib/common.mjs';

const opts = parseFlags(process.argv.slice(2), {
  db: 'sqlite',
  people: 300,
  boxes: 5,
  strangers: 300,
  seed: 15,
  concurrency: 8,
  scan: 50000,
  link: '',
  suggest: '',
});
requireBuild();
if (opts.db === 'postgres' && !process.env.DATABASE_URL) throw new Error('--db postgres needs DATABASE_URL');
const DIM = 512;

// Seeded PRNG (mulberry32) and Gaussian (Box-Muller).
let state = opts.seed >>> 0;
const rand = () => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
const normalise = (v) => {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n);
  return v.map((x) => x / n);
};
const dot = (a, b) => {
  let s = 0;
  for (let i = 0; i < DIM; i++) s += a[i] * b[i];
  return s;
};
const centre = () => normalise(Float32Array.from({ length: DIM }, gauss));
const sighting = (c) => {
  const sigma = 0.58 + rand() * 0.32;
  return normalise(c.map((x) => x + (gauss() * sigma) / Math.sqrt(DIM)));
};

// People and their identities (one per box that saw them).
const identities = []; // { external, person, box, feature }
for (let p = 0; p < opts.people + opts.strangers; p++) {
  const c = centre();
  const seenAt = p < opts.people ? 2 + Math.floor(rand() * (opts.boxes - 1)) : 1;
  const boxes = [...Array(opts.boxes).keys()].sort(() => rand() - 0.5).slice(0, seenAt);
  for (const b of boxes) identities.push({ external: `bench-p${p}-b${b}`, person: p, box: b, feature: sighting(c) });
}
// Arrival order: shuffled, as the boxes see people at different times.
for (let i = identities.length - 1; i > 0; i--) {
  const j = Math.floor(rand() * (i + 1));
  [identities[i], identities[j]] = [identities[j], identities[i]];
}

// The stated distribution, measured on the generated data.
const same = [];
const diff = [];
for (let i = 0; i < identities.length; i++)
  for (let j = i + 1; j < identities.length; j++) {
    const s = dot(identities[i].feature, identities[j].feature);
    if (identities[i].person === identities[j].person) same.push(s);
    else if (diff.length < 200000) diff.push(s);
  }
const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => Number(s[Math.min(s.length - 1, Math.floor(p * s.length))].toFixed(3));
  return { n: xs.length, min: q(0), p01: q(0.01), p50: q(0.5), p99: q(0.99), max: q(1) };
};

const apiKey = 'bench-admin-key-0123456789abcdef0123456789';
const dataDir = freshDir(`faces-linking-${opts.db}`);
const pgDb = opts.db === 'postgres' ? await freshPostgresDatabase(process.env.DATABASE_URL, 'rh_bench_link') : null;
const env = { ADMIN_API_KEY: apiKey, API_RATE_LIMIT_PER_MINUTE: '1000000' };
if (opts.link) env.PERSON_LINK_THRESHOLD = String(opts.link);
if (opts.suggest) env.PERSON_SUGGEST_THRESHOLD = String(opts.suggest);
const hub = await startHub({ dataDir, databaseUrl: pgDb?.url, env });
const unprocessed = async () => {
  const sql = 'SELECT COUNT(*) AS n FROM outbox_events WHERE processed_at IS NULL';
  if (pgDb) {
    const c = new pg.Client({ connectionString: pgDb.url });
    await c.connect();
    try {
      return Number((await c.query(sql)).rows[0].n);
    } finally {
      await c.end();
    }
  }
  const db = new Database(path.join(dataDir, 'recognition-hub.sqlite'), { readonly: true });
  try {
    return Number(db.prepare(sql).get().n);
  } finally {
    db.close();
  }
};

let result;
try {
  const t0 = Date.now();
  const T = 1_790_000_000_000;
  let next = 0;
  const pushOne = async (x, i) => {
    const body = {
      api_version: '2.0',
      mq_license_key: `BENCH-BOX-${x.box}`,
      timestamp: T + i * 1000,
      identity_id: x.external,
      identity_name: x.external,
      user_type: 'stranger',
      post_action: '1001',
      score: 80,
      media_device_info: { media_device_id: `cam-${x.box}`, media_device_type: 'rtsp', media_device_name: `camera ${x.box}` },
      recognize_face_attr: { feature_base64_str: Buffer.from(x.feature.buffer).toString('base64') },
    };
    const res = await fetch(hub.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (res.status !== 200) throw new Error(`push ${res.status}: ${await res.text()}`);
  };
  await Promise.all(
    Array.from({ length: opts.concurrency }, async () => {
      for (let i = next++; i < identities.length; i = next++) await pushOne(identities[i], i);
    }),
  );
  const pushed = Date.now();
  console.error(`pushed ${identities.length} in ${(pushed - t0) / 1000} s`);
  for (let n = await unprocessed(), i = 0; n > 0; n = await unprocessed(), i++) {
    if (i % 25 === 0) console.error(`${n} events to relay`);
    await sleep(200);
  }
  const linked = Date.now();

  // Prediction: personId of each identity, over HTTP.
  const get = async (p) => {
    const res = await fetch(`${hub.base}${p}`, { headers: { 'x-api-key': apiKey } });
    if (res.status !== 200) throw new Error(`GET ${p}: ${res.status}`);
    return res.json();
  };
  const personOf = new Map();
  let cursor = null;
  do {
    const page = await get(`/identities?limit=500${cursor ? `&cursor=${cursor}` : ''}`);
    for (const i of page.items) personOf.set(i.externalId, i.id);
    cursor = page.nextCursor;
  } while (cursor);
  for (const x of identities) x.personId = (await get(`/identities/${personOf.get(x.external)}`)).personId;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < identities.length; i++)
    for (let j = i + 1; j < identities.length; j++) {
      const truth = identities[i].person === identities[j].person;
      const predicted = identities[i].personId !== null && identities[i].personId === identities[j].personId;
      if (truth && predicted) tp++;
      else if (predicted) fp++;
      else if (truth) fn++;
    }
  let suggestions = 0;
  cursor = null;
  const persons = new Set(identities.map((x) => x.personId));
  for (const p of persons) suggestions += (await get(`/persons/${p}/suggestions`)).items.filter((s) => s.status === 'pending').length;

  // One exact scan of the first-face matrix at --scan identities (what each new identity's first face costs).
  const { FaceMatrix } = await import(path.join(REPO, 'dist/src/persons/face-matrix.js'));
  const m = new FaceMatrix();
  for (let i = 0; i < opts.scan; i++) m.set(`i${i}`, centre());
  const q = centre();
  const times = [];
  for (let r = 0; r < 20; r++) {
    const s = process.hrtime.bigint();
    m.search(q, 0.35, 64);
    times.push(Number(process.hrtime.bigint() - s) / 1e6);
  }
  times.sort((a, b) => a - b);

  result = {
    machine: machine(),
    db: opts.db,
    thresholds: { link: opts.link || 'default (0.5)', suggest: opts.suggest || 'default (0.35)' },
    people: opts.people,
    strangersSeenOnce: opts.strangers,
    identities: identities.length,
    cosine: { samePerson: stats(same), differentPeople: stats(diff) },
    pairs: { samePerson: tp + fn, linkedCorrectly: tp, linkedWrongly: fp, missed: fn },
    precision: Number((tp / Math.max(1, tp + fp)).toFixed(4)),
    recall: Number((tp / Math.max(1, tp + fn)).toFixed(4)),
    pendingSuggestions: suggestions,
    seconds: { push: (pushed - t0) / 1000, linkedAfterPush: (linked - pushed) / 1000 },
    firstFaceScan: {
      identities: opts.scan,
      medianMs: Number(times[10].toFixed(1)),
      minMs: Number(times[0].toFixed(1)),
      matrixMiB: Math.round((opts.scan * DIM * 4) / 2 ** 20),
    },
  };
} finally {
  await hub.stop();
  if (pgDb) await dropPostgresDatabase(process.env.DATABASE_URL, pgDb.name);
}
console.log(JSON.stringify(result, null, 2));
console.error(`written to ${writeResult('faces-linking', result)}`);
if (result.precision < 0.99 || result.recall < 0.9) process.exitCode = 1;
