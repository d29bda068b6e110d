#!/usr/bin/env node
// Record list latency on a large database: seeds --count records (default 1,000,000) into a fresh hub
// database, then times GET /records filtered by media device and time range (first pages and next pages
// through the cursor) over HTTP with a reader API key, one request at a time.
//
//   node bench/query.mjs [--db sqlite|postgres] [--count 1000000] [--queries 400] [--reuse]
//
// --reuse keeps the seeded database in bench/.work/query-<db>-<count> and reuses it on the next run.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import {
  dropPostgresDatabase,
  freshPostgresDatabase,
  loadAverage,
  machine,
  parseFlags,
  percentile,
  REPO,
  requireBuild,
  startHub,
  WORK,
  writeResult,
} from './lib/common.mjs';
import { SEED_DEFAULTS, seedPostgres, seedSqlite } from './seed-records.mjs';

const opts = parseFlags(process.argv.slice(2), { db: 'sqlite', count: SEED_DEFAULTS.count, queries: 400, warmup: 40, reuse: false });
requireBuild();
if (opts.db === 'postgres' && !process.env.DATABASE_URL) throw new Error('--db postgres needs DATABASE_URL');

const dataDir = path.join(WORK, `query-${opts.db}-${opts.count}`);
const stateFile = path.join(dataDir, 'seed.json');
let state = opts.reuse && fs.existsSync(stateFile) ? JSON.parse(fs.readFileSync(stateFile, 'utf8')) : null;
let pgDb = null;
if (!state) {
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.mkdirSync(dataDir, { recursive: true });
  pgDb = opts.db === 'postgres' ? await freshPostgresDatabase(process.env.DATABASE_URL, 'rh_bench_query') : null;
  // Start once so the migrations create the schema, then load the rows straight into the database.
  const migrate = await startHub({ dataDir, databaseUrl: pgDb?.url });
  await migrate.stop();
  console.error(`seeding ${opts.count.toLocaleString('en')} records into ${opts.db}…`);
  const t = Date.now();
  const w = pgDb
    ? await seedPostgres(pgDb.url, { count: opts.count })
    : seedSqlite(path.join(dataDir, 'recognition-hub.sqlite'), { count: opts.count });
  state = {
    databaseUrl: pgDb?.url ?? null,
    pgName: pgDb?.name ?? null,
    t0: w.t0,
    now: w.now,
    devices: w.devices.map((d) => d.id),
    seedSeconds: (Date.now() - t) / 1000,
  };
  fs.writeFileSync(stateFile, JSON.stringify(state));
  console.error(`seeded in ${state.seedSeconds.toFixed(0)} s`);
}

const hubEnv = { ...process.env, DATA_DIR: dataDir, ...(state.databaseUrl ? { DATABASE_URL: state.databaseUrl } : {}) };
if (!state.databaseUrl) delete hubEnv.DATABASE_URL;
const created = execFileSync(
  process.execPath,
  [path.join(REPO, 'dist/src/auth/api-key.cli.js'), 'create', '--name', `bench-${Date.now()}`, '--role', 'reader'],
  {
    env: hubEnv,
    encoding: 'utf8',
  },
);
const apiKey = created.trim().split('\n').pop().trim();
const hub = await startHub({ dataDir, databaseUrl: state.databaseUrl ?? undefined });

// Deterministic pseudo-random choices, so reruns ask the same questions.
let seed = 42;
const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
const HOUR = 3_600_000;
const windows = [
  ['1 hour', HOUR],
  ['1 day', 24 * HOUR],
  ['7 days', 7 * 24 * HOUR],
  ['30 days', 30 * 24 * HOUR],
];
function question() {
  const device = state.devices[Math.floor(rnd() * state.devices.length)];
  const [label, span] = windows[Math.floor(rnd() * windows.length)];
  const from = state.t0 + Math.floor(rnd() * (state.now - state.t0 - span));
  return { device, label, from, to: from + span };
}

async function list(q, cursor) {
  const params = new URLSearchParams({ mediaDeviceId: q.device, from: String(q.from), to: String(q.to), limit: '50' });
  if (cursor) params.set('cursor', cursor);
  const t = process.hrtime.bigint();
  const res = await fetch(`${hub.base}/records?${params}`, { headers: { 'x-api-key': apiKey } });
  const body = await res.json();
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (res.status !== 200) throw new Error(`GET /records answered ${res.status}: ${JSON.stringify(body)}`);
  return { ms, items: body.items.length, next: body.nextCursor };
}

const first = [];
const next = [];
let rows = 0;
try {
  for (let i = 0; i < opts.warmup + opts.queries; i++) {
    const q = question();
    const a = await list(q);
    // Every other question also fetches its second page through the cursor.
    const b = i % 2 === 0 && a.next ? await list(q, a.next) : null;
    if (i < opts.warmup) continue;
    first.push(a.ms);
    rows += a.items;
    if (b) next.push(b.ms);
  }
} finally {
  await hub.stop();
}

// The plans the databases chose, for the record.
const sql = `SELECT id FROM recognition_records r WHERE r.media_device_id = $1 AND r.occurred_at >= $2 AND r.occurred_at < $3
  AND (r.occurred_at, r.id) < ($4, $5) ORDER BY r.occurred_at DESC, r.id DESC LIMIT 51`;
const q = question();
let plan;
if (state.databaseUrl) {
  const c = new pg.Client({ connectionString: state.databaseUrl });
  await c.connect();
  plan = (await c.query(`EXPLAIN ${sql}`, [q.device, q.from, q.to, q.to, 'ffffffff'])).rows.map((r) => r['QUERY PLAN']).join('\n');
  await c.end();
} else {
  const db = new Database(path.join(dataDir, 'recognition-hub.sqlite'), { readonly: true });
  plan = db
    .prepare(`EXPLAIN QUERY PLAN ${sql.replace(/\$\d/g, '?')}`)
    .all(q.device, q.from, q.to, q.to, 'ffffffff')
    .map((r) => r.detail)
    .join('\n');
  db.close();
}
if (!opts.reuse && state.pgName) await dropPostgresDatabase(process.env.DATABASE_URL, state.pgName);

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return {
    n: s.length,
    p50: +percentile(s, 50).toFixed(1),
    p95: +percentile(s, 95).toFixed(1),
    p99: +percentile(s, 99).toFixed(1),
    max: +s[s.length - 1].toFixed(1),
  };
};
const result = {
  machine: machine(),
  db: opts.db,
  records: opts.count,
  devices: state.devices.length,
  firstPage: stats(first),
  nextPage: stats(next),
  all: stats([...first, ...next]),
  meanRowsPerPage: +(rows / first.length).toFixed(1),
  plan,
  load: loadAverage(),
};
writeResult(`query-${opts.db}`, result);
console.log(`machine: ${result.machine.cores} cores, Node ${process.version}; load average ${result.load}`);
console.log(
  `${opts.db}, ${opts.count.toLocaleString('en')} records on ${result.devices} media devices: GET /records?mediaDeviceId&from&to (limit 50), ` +
    `windows of 1 hour to 30 days, mean ${result.meanRowsPerPage} rows on a first page`,
);
for (const [name, s] of [
  ['first pages', result.firstPage],
  ['next pages (cursor)', result.nextPage],
  ['all', result.all],
]) {
  console.log(`  ${name.padEnd(20)} n=${s.n}  p50 ${s.p50} ms  p95 ${s.p95} ms  p99 ${s.p99} ms  max ${s.max} ms`);
}
console.log(`plan:\n  ${plan.replace(/\n/g, '\n  ')}`);
const pass = result.all.p95 < 50;
console.log(`${pass ? 'PASS' : 'FAIL'}: p95 ${result.all.p95} ms (target < 50 ms)`);
process.exitCode = pass ? 0 : 1;
