#!/usr/bin/env node
// CPU time the hub spends per stored record, all of it: every process of the hub (cluster primary and workers,
// not the PostgreSQL server), from the start of the load (warm-up included) until the outbox relay has handed every
// event to its listeners, divided by the records stored. Throughput figures leave out the listeners' work that
// is still queued when the load stops; this does not. Runs the built hub (or another build, --main) under the
// shared load tool, 10 connections, every request a new record.
//
//   node bench/cpu-per-push.mjs [--db sqlite|postgres] [--size small|typical] [--duration 10] [--connections 10]
//                               [--main path/to/dist/src/main.js] [--label name] [--count]
//
// --count (PostgreSQL) also counts the SQL statements and transactions the hub's processes send over the same
// window (bench/lib/count-statements.cjs, preloaded into every process of the hub).
//
// PostgreSQL needs DATABASE_URL (a fresh database is created next to it and dropped). Compare builds by
// alternating runs in one session: the figure moves with the machine's load, which it prints.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ensurePayloads,
  freshDir,
  freshPostgresDatabase,
  hubCount,
  MAIN_JS,
  parseFlags,
  requireBuild,
  sleep,
  startHub,
  toolArgv,
  processTree,
  WORK,
} from './lib/common.mjs';

/** User and system CPU seconds of a process and its descendants (cluster workers). */
function treeCpu(pid) {
  const t = { user: 0, sys: 0 };
  for (const p of processTree(pid)) {
    try {
      const f = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
      t.user += Number(rest[11]) / 100;
      t.sys += Number(rest[12]) / 100;
    } catch {
      // gone meanwhile
    }
  }
  return t;
}
const since = (a) => {
  const b = treeCpu(hub.pid);
  return { user: b.user - a.user, sys: b.sys - a.sys, all: b.user - a.user + b.sys - a.sys };
};

const opts = parseFlags(process.argv.slice(2), {
  db: 'sqlite',
  size: 'small',
  duration: 10,
  warmup: 2,
  connections: 10,
  main: MAIN_JS,
  label: '',
  count: false,
});
const countDir = opts.count ? fs.mkdtempSync(path.join(os.tmpdir(), 'rh-count-')) : null;
if (countDir) {
  process.env.BENCH_COUNT_DIR = countDir;
  const preload = path.join(path.dirname(new URL(import.meta.url).pathname), 'lib/count-statements.cjs');
  process.env.BENCH_HUB_NODE_FLAGS = `--require ${preload} ${process.env.BENCH_HUB_NODE_FLAGS ?? ''}`;
}
/** Statements and transactions counted so far, summed over the hub's processes. */
function statementCounts() {
  const sum = { statements: 0, transactions: 0 };
  for (const f of countDir ? fs.readdirSync(countDir) : []) {
    try {
      const c = JSON.parse(fs.readFileSync(path.join(countDir, f), 'utf8'));
      sum.statements += c.statements;
      sum.transactions += c.transactions;
    } catch {
      // being written
    }
  }
  return sum;
}
if (opts.main === MAIN_JS) requireBuild();
if (opts.db === 'postgres' && !process.env.DATABASE_URL) {
  console.error('--db postgres needs DATABASE_URL');
  process.exit(1);
}
const pgDb = opts.db === 'postgres' ? await freshPostgresDatabase(process.env.DATABASE_URL, 'rh_bench_cpu') : null;
const dataDir = freshDir(`cpu-${opts.db}-${process.pid}`);
const where = { dataDir, databaseUrl: pgDb?.url };
const hub = await startHub({ ...where, mainJs: path.resolve(opts.main) });
const json = path.join(WORK, `cpu-load-${process.pid}.json`);
let result;
try {
  await sleep(countDir ? 400 : 0);
  const counts0 = statementCounts();
  const cpu0 = treeCpu(hub.pid);
  const t0 = Date.now();
  await new Promise((resolve, reject) => {
    const argv = toolArgv('load.mjs', [
      ...['--url', hub.url, '--payloads', ensurePayloads(opts.size), '--duration', String(opts.duration)],
      ...['--warmup', String(opts.warmup), '--connections', String(opts.connections), '--json', json, '--quiet'],
    ]);
    spawn(process.execPath, argv, { stdio: ['ignore', 'ignore', 'inherit'] }).on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`load.mjs exited ${code}`)),
    );
  });
  const loadCpu = since(cpu0).all;
  const loadEnd = Date.now();
  // Until every event is relayed (the listeners' work is part of what a push costs).
  const pending = 'SELECT count(*) AS n FROM outbox_events WHERE processed_at IS NULL';
  while ((await hubCount(where, pending)) > 0) await sleep(100);
  const cpu = since(cpu0);
  await sleep(countDir ? 400 : 0);
  const counts1 = statementCounts();
  const records = await hubCount(where, 'SELECT count(*) AS n FROM recognition_records');
  const load = JSON.parse(fs.readFileSync(json, 'utf8'));
  const retries = await hubCount(where, 'SELECT COALESCE(SUM(attempts), 0) AS n FROM outbox_events');
  result = {
    label: opts.label || path.relative(process.cwd(), opts.main),
    db: opts.db,
    size: opts.size,
    records,
    recordsPerSec: +(load.ok2xx / load.duration).toFixed(1),
    p99: load.latencyMs.p99,
    non2xx: load.non2xx + load.errors + load.timeouts,
    cpuMsPerRecord: +((cpu.all * 1000) / records).toFixed(2),
    userMsPerRecord: +((cpu.user * 1000) / records).toFixed(2),
    sysMsPerRecord: +((cpu.sys * 1000) / records).toFixed(2),
    cpuMsPerRecordDuringLoad: +((loadCpu * 1000) / records).toFixed(2),
    ...(countDir && {
      statementsPerRecord: +((counts1.statements - counts0.statements) / records).toFixed(2),
      transactionsPerRecord: +((counts1.transactions - counts0.transactions) / records).toFixed(3),
    }),
    relayCatchUpMs: Date.now() - loadEnd,
    listenerRetries: retries,
    loadSeconds: (loadEnd - t0) / 1000,
    loadAverage: os.loadavg().map((x) => +x.toFixed(1)),
  };
} finally {
  fs.rmSync(json, { force: true });
  await hub.stop();
  await pgDb?.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
  if (countDir) fs.rmSync(countDir, { recursive: true, force: true });
}
console.log(JSON.stringify(result));
if (process.env.BENCH_SHOW_HUB_LOG) console.log(hub.output().split('\n').slice(-Number(process.env.BENCH_SHOW_HUB_LOG)).join('\n'));
