#!/usr/bin/env node
// Ingest throughput of the built hub next to the reference receiver (../shared/bench) on the same database kind:
// SQLite against the reference's SQLite mode, PostgreSQL against its `--pg` mode. Same payloads, same load driver,
// same machine, in alternating runs. `npm run bench` builds and runs this.
//
//   node bench/ingest.mjs [--sizes small,typical] [--db sqlite,postgres] [--runs 3] [--duration 10]
//                         [--warmup 2] [--connections 10] [--web-concurrency N]
//
// PostgreSQL is included when DATABASE_URL is set: the hub and the reference each get a fresh database next to it
// (dropped afterwards). Each (database, size) pair gets a fresh hub (fresh DATA_DIR) and a fresh reference.
// --web-concurrency sets the hub's WEB_CONCURRENCY (unset: the hub's default, one worker per two cores on PostgreSQL).
// At the end of each pair both servers are stopped and their rows counted against the 2xx answers they gave
// (warm-up included): an acknowledged record missing is "lost", a row beyond the acknowledged and unanswered
// pushes is "extra" (a duplicate). Both must be 0.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  ensurePayloads,
  freshDir,
  freshPostgresDatabase,
  hubRows,
  loadAverage,
  machine,
  median,
  parseFlags,
  referenceRows,
  requireBuild,
  startHub,
  startReference,
  table,
  toolArgv,
  TOOLS,
  treeCpuSeconds,
  treePeakRssMiB,
  WORK,
  writeResult,
} from './lib/common.mjs';

const opts = parseFlags(process.argv.slice(2), {
  sizes: 'small,typical',
  db: process.env.DATABASE_URL ? 'sqlite,postgres' : 'sqlite',
  runs: 3,
  duration: 10,
  warmup: 2,
  connections: 10,
  webConcurrency: 0,
});
requireBuild();
const sizes = opts.sizes.split(',');
const dbs = opts.db.split(',');
if (dbs.includes('postgres') && !process.env.DATABASE_URL) {
  console.error('--db postgres needs DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres)');
  process.exit(1);
}
if (dbs.includes('postgres') && !/\bpg: \{ type: 'string'/.test(fs.readFileSync(path.join(TOOLS, 'baseline-receiver.mjs'), 'utf8'))) {
  console.error(
    `The reference receiver in ${TOOLS} has no --pg mode (an older copy of the shared bench tools): update it, or run --db sqlite.`,
  );
  process.exit(1);
}
if (!process.env.DATABASE_URL) console.log('DATABASE_URL is not set: SQLite only (set it to compare PostgreSQL too).');

/** One load.mjs run (autocannon), as a separate process so the driver never shares the server's event loop. */
function runLoad(server, payloads, label, { duration, warmup }) {
  const json = path.join(WORK, `load-${process.pid}.json`);
  const argv = toolArgv('load.mjs', [
    '--url',
    server.url,
    '--payloads',
    payloads,
    '--duration',
    String(duration),
    '--warmup',
    String(warmup),
    '--connections',
    String(opts.connections),
    '--server-pid',
    String(server.pid),
    '--json',
    json,
    '--label',
    label,
    '--quiet',
  ]);
  // Server CPU over the run for the whole process tree (the hub's cluster workers, not just the primary).
  const cpu0 = treeCpuSeconds(server.pid);
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`load.mjs exited ${code}`));
      const r = JSON.parse(fs.readFileSync(json, 'utf8'));
      fs.rmSync(json, { force: true });
      r.serverCpuPct = Math.round(((treeCpuSeconds(server.pid) - cpu0) / ((Date.now() - t0) / 1000)) * 100);
      resolve(r);
    });
  });
}

const summarise = (runs, peakRss) => ({
  recordsPerSec: +median(runs.map((r) => r.ok2xx / r.duration)).toFixed(1),
  mibPerSec: +median(runs.map((r) => r.mbPerSec)).toFixed(2),
  p50: median(runs.map((r) => r.latencyMs.p50)),
  p99: median(runs.map((r) => r.latencyMs.p99)),
  non2xx: runs.reduce((a, r) => a + r.non2xx + r.errors + r.timeouts, 0),
  serverCpuPct: median(runs.map((r) => r.serverCpuPct)),
  machineBusyPct: median(runs.map((r) => r.machineBusyPct)),
  peakRssMiB: peakRss,
  runs: runs.map((r) => ({
    recordsPerSec: +(r.ok2xx / r.duration).toFixed(1),
    p50: r.latencyMs.p50,
    p99: r.latencyMs.p99,
    non2xx: r.non2xx,
  })),
});

/**
 * Rows against acknowledgements: every 2xx must be a row (else "lost"), and no row may exist beyond the pushes that
 * could have been stored without a 2xx being counted (else "extra", a duplicate): those answered otherwise, and those
 * still in flight when a run's time ran out (at most one per connection and run; autocannon counts no answer then).
 */
function accounting(allRuns, rows) {
  const acknowledged = allRuns.reduce((a, r) => a + r.ok2xx, 0);
  const unanswered = allRuns.reduce((a, r) => a + r.non2xx + r.errors + r.timeouts, 0);
  const cutOff = allRuns.length * opts.connections;
  if (rows === null) return { acknowledged, unanswered, rows, lost: null, extra: null };
  return {
    acknowledged,
    unanswered,
    rows,
    lost: Math.max(0, acknowledged - rows),
    extra: Math.max(0, rows - acknowledged - unanswered - cutOff),
  };
}

const result = { machine: machine(), options: opts, startedAt: new Date().toISOString(), loadBefore: loadAverage(), results: [] };
console.log(
  `machine: ${result.machine.cores} cores (${result.machine.cpu}), ${result.machine.memGiB} GiB, Node ${result.machine.node}; ` +
    `load average ${result.loadBefore}`,
);
console.log(
  `${opts.connections} connections, ${opts.runs} alternating runs of ${opts.duration} s (+${opts.warmup} s warm-up) each; medians\n`,
);

for (const db of dbs) {
  for (const size of sizes) {
    const payloads = ensurePayloads(size);
    const hubDb = db === 'postgres' ? await freshPostgresDatabase(process.env.DATABASE_URL, 'rh_bench') : null;
    const refDb = db === 'postgres' ? await freshPostgresDatabase(process.env.DATABASE_URL, 'rh_bench_ref') : null;
    const hubDir = freshDir(`ingest-${db}-${size}`, 'hub');
    const env = opts.webConcurrency > 0 ? { WEB_CONCURRENCY: String(opts.webConcurrency) } : {};
    const hub = await startHub({ dataDir: hubDir, databaseUrl: hubDb?.url, env });
    const ref = await startReference({ dataDir: freshDir(`ingest-${db}-${size}`, 'reference'), pgUrl: refDb?.url });
    const hubRuns = [];
    const refRuns = [];
    const hubAll = [];
    const refAll = [];
    let hubPeak = null;
    let refPeak = null;
    let hubCount = null;
    let refCount = null;
    try {
      // Warm-up as runs of their own, so that their acknowledgements are counted too.
      if (opts.warmup > 0) {
        hubAll.push(await runLoad(hub, payloads, `hub/${db}/${size} warm-up`, { duration: opts.warmup, warmup: 0 }));
        refAll.push(await runLoad(ref, payloads, `reference/${db}/${size} warm-up`, { duration: opts.warmup, warmup: 0 }));
      }
      for (let i = 0; i < opts.runs; i++) {
        hubRuns.push(await runLoad(hub, payloads, `hub/${db}/${size}#${i + 1}`, { duration: opts.duration, warmup: 0 }));
        refRuns.push(await runLoad(ref, payloads, `reference/${db}/${size}#${i + 1}`, { duration: opts.duration, warmup: 0 }));
      }
    } finally {
      hubPeak = treePeakRssMiB(hub.pid);
      refPeak = treePeakRssMiB(ref.pid);
      await hub.stop();
      const refOutput = await ref.stop();
      hubCount = await hubRows({ dataDir: hubDir, databaseUrl: hubDb?.url }).catch(() => null);
      refCount = referenceRows(refOutput);
      await hubDb?.drop();
      await refDb?.drop();
    }
    const h = { ...summarise(hubRuns, hubPeak), ...accounting([...hubAll, ...hubRuns], hubCount) };
    const r = { ...summarise(refRuns, refPeak), ...accounting([...refAll, ...refRuns], refCount) };
    const ratio = +(h.recordsPerSec / r.recordsPerSec).toFixed(2);
    const meanKB = hubRuns[0].meanBodyKB;
    result.results.push({ db, size, meanBodyKB: meanKB, hub: h, reference: r, ratio });
    console.log(`\n${db === 'sqlite' ? 'SQLite' : 'PostgreSQL'}, ${size} payloads (mean ${meanKB} KB), load average ${loadAverage()}`);
    const row = (name, s, ratioText) => [
      name,
      s.recordsPerSec,
      s.mibPerSec,
      s.p50,
      s.p99,
      s.non2xx,
      `${s.acknowledged}/${s.rows ?? '?'}`,
      s.lost ?? '?',
      s.extra ?? '?',
      s.peakRssMiB,
      s.serverCpuPct,
      ratioText,
    ];
    console.log(
      table([
        ['target', 'req/s', 'MiB/s', 'p50 ms', 'p99 ms', 'non-2xx', 'acked/rows', 'lost', 'extra', 'peak RSS MiB', 'server CPU %', 'ratio'],
        row('hub', h, `${ratio}x`),
        row('reference', r, '1x'),
      ]),
    );
    console.log('');
  }
}

result.loadAfter = loadAverage();
const file = writeResult('ingest', result);
console.log(`\nsummary (hub req/s as a ratio to the reference on the same database, same run):`);
let bad = 0;
for (const x of result.results) {
  const check = x.hub.lost === 0 && x.hub.extra === 0 ? 'no record lost or duplicated' : `LOST ${x.hub.lost}, EXTRA ${x.hub.extra}`;
  if (!(x.hub.lost === 0 && x.hub.extra === 0)) bad++;
  console.log(
    `  ${x.db.padEnd(8)} ${x.size.padEnd(8)} ${String(x.ratio).padStart(5)}x  (${x.hub.recordsPerSec} vs ${x.reference.recordsPerSec} req/s; ` +
      `p99 ${x.hub.p99} ms; non-2xx ${x.hub.non2xx}; ${check})`,
  );
}
console.log(`load average after: ${result.loadAfter}; full results in ${path.relative(process.cwd(), file)}`);
if (bad > 0) process.exitCode = 1;
