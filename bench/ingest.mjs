#!/usr/bin/env node
// Ingest throughput of the built hub next to the bare reference receiver (../shared/bench), on the same
// payloads, same load driver, same machine, in alternating runs. `npm run bench` builds and runs this.
//
//   node bench/ingest.mjs [--sizes small,typical] [--db sqlite,postgres] [--runs 3] [--duration 10]
//                         [--warmup 2] [--connections 10]
//
// PostgreSQL is included when DATABASE_URL is set (a fresh database is created next to it and dropped).
// Each (database, size) pair gets a fresh hub (fresh DATA_DIR) and a fresh reference receiver.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  ensurePayloads,
  freshDir,
  freshPostgresDatabase,
  loadAverage,
  machine,
  median,
  parseFlags,
  peakRssMiB,
  requireBuild,
  startHub,
  startReference,
  table,
  toolArgv,
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
});
requireBuild();
const sizes = opts.sizes.split(',');
const dbs = opts.db.split(',');
if (dbs.includes('postgres') && !process.env.DATABASE_URL) throw new Error('--db postgres needs DATABASE_URL');

/** One load.mjs run (autocannon), as a separate process so the driver never shares the server's event loop. */
function runLoad(server, payloads, label) {
  const json = path.join(WORK, `load-${process.pid}.json`);
  const argv = toolArgv('load.mjs', [
    '--url',
    server.url,
    '--payloads',
    payloads,
    '--duration',
    String(opts.duration),
    '--warmup',
    String(opts.warmup),
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
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`load.mjs exited ${code}`));
      const r = JSON.parse(fs.readFileSync(json, 'utf8'));
      fs.rmSync(json, { force: true });
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
    const pgDb = db === 'postgres' ? await freshPostgresDatabase(process.env.DATABASE_URL, 'rh_bench') : null;
    const hub = await startHub({ dataDir: freshDir(`ingest-${db}-${size}`, 'hub'), databaseUrl: pgDb?.url });
    const ref = await startReference({ dataDir: freshDir(`ingest-${db}-${size}`, 'reference') });
    const hubRuns = [];
    const refRuns = [];
    let hubPeak = null;
    let refPeak = null;
    try {
      for (let i = 0; i < opts.runs; i++) {
        hubRuns.push(await runLoad(hub, payloads, `hub/${db}/${size}#${i + 1}`));
        refRuns.push(await runLoad(ref, payloads, `reference/${size}#${i + 1}`));
      }
    } finally {
      hubPeak = peakRssMiB(hub.pid);
      refPeak = peakRssMiB(ref.pid);
      await hub.stop();
      await ref.stop();
      await pgDb?.drop();
    }
    const h = summarise(hubRuns, hubPeak);
    const r = summarise(refRuns, refPeak);
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
      s.peakRssMiB,
      s.serverCpuPct,
      ratioText,
    ];
    console.log(
      table([
        ['target', 'records/s', 'MiB/s', 'p50 ms', 'p99 ms', 'non-2xx', 'peak RSS MiB', 'server CPU %', 'ratio'],
        row('hub', h, `${ratio}x`),
        row('reference', r, '1x'),
      ]),
    );
    console.log('');
  }
}

result.loadAfter = loadAverage();
const file = writeResult('ingest', result);
console.log(`\nsummary (hub records/s as a ratio to the reference, same run):`);
for (const x of result.results)
  console.log(`  ${x.db.padEnd(8)} ${x.size.padEnd(8)} ${x.ratio}x  (${x.hub.recordsPerSec} vs ${x.reference.recordsPerSec} records/s)`);
console.log(`load average after: ${result.loadAfter}; full results in ${path.relative(process.cwd(), file)}`);
