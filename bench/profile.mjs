#!/usr/bin/env node
// Where ingest time goes: runs the built hub under `node --cpu-prof`, drives it with the shared load tool,
// and prints the functions and packages with the most self time. The .cpuprofile file (open it in Chrome
// DevTools or speedscope) is kept in bench/.work/profiles.
//
//   node bench/profile.mjs [--size small|typical] [--duration 15] [--db sqlite|postgres] [--top 30] [--shm]
//
// --shm puts the hub's data directory on /dev/shm, where fsync costs nothing: what remains is CPU work.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ensurePayloads, freshDir, freshPostgresDatabase, parseFlags, requireBuild, startHub, toolArgv, WORK } from './lib/common.mjs';

const opts = parseFlags(process.argv.slice(2), { size: 'small', duration: 15, db: 'sqlite', top: 30, connections: 10, shm: false });
requireBuild();
const profDir = path.join(WORK, 'profiles');
fs.mkdirSync(profDir, { recursive: true });
const before = new Set(fs.readdirSync(profDir));
process.env.BENCH_HUB_NODE_FLAGS = `--cpu-prof --cpu-prof-dir=${profDir} ${process.env.BENCH_HUB_NODE_FLAGS ?? ''}`;

const pgDb = opts.db === 'postgres' ? await freshPostgresDatabase(process.env.DATABASE_URL, 'rh_bench_prof') : null;
let dataDir = freshDir(`profile-${opts.db}`);
if (opts.shm) {
  dataDir = `/dev/shm/rh-bench-profile-${process.pid}`;
  fs.mkdirSync(dataDir, { recursive: true });
}
const hub = await startHub({ dataDir, databaseUrl: pgDb?.url });
await new Promise((resolve, reject) => {
  const argv = toolArgv('load.mjs', [
    '--url',
    hub.url,
    '--payloads',
    ensurePayloads(opts.size),
    '--duration',
    String(opts.duration),
    '--warmup',
    '2',
    '--connections',
    String(opts.connections),
    '--server-pid',
    String(hub.pid),
  ]);
  spawn(process.execPath, argv, { stdio: 'inherit' }).on('exit', (code) =>
    code === 0 ? resolve() : reject(new Error(`load.mjs exited ${code}`)),
  );
});
await hub.stop();
await pgDb?.drop();
if (opts.shm) fs.rmSync(dataDir, { recursive: true, force: true });

// Every process of the hub writes its own profile (on PostgreSQL the cluster primary and each worker): summed.
const files = fs.readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile') && !before.has(f));
if (files.length === 0) throw new Error(`no profile written in ${profDir}`);
let total = 0;
const byFn = new Map();
const byPkg = new Map();
for (const file of files) {
  const prof = JSON.parse(fs.readFileSync(path.join(profDir, file), 'utf8'));
  const dt = new Map();
  for (let i = 0; i < prof.samples.length; i++) dt.set(prof.samples[i], (dt.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i] ?? 0));
  for (const n of prof.nodes) {
    const us = dt.get(n.id) ?? 0;
    if (!us) continue;
    // Idle time is not work: left out, so that shares are of the CPU actually used (summed over processes).
    if (n.callFrame.functionName === '(idle)') continue;
    total += us;
    const cf = n.callFrame;
    const url = cf.url.replace(/^file:\/\//, '');
    const where = url ? `${path.relative(process.cwd(), url)}:${cf.lineNumber + 1}` : '(native)';
    const fnKey = `${cf.functionName || '(anonymous)'}  ${where}`;
    byFn.set(fnKey, (byFn.get(fnKey) ?? 0) + us);
    const pkg =
      /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ??
      (url.includes('/dist/')
        ? 'hub (dist)'
        : url.startsWith('node:')
          ? 'node core'
          : cf.functionName.startsWith('(')
            ? cf.functionName
            : 'native/builtin');
    byPkg.set(pkg, (byPkg.get(pkg) ?? 0) + us);
  }
}
const file = files.length === 1 ? files[0] : `{${files.join(',')}}`;
const show = (m, n) =>
  [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, us]) => `  ${((us / total) * 100).toFixed(1).padStart(5)}%  ${k}`)
    .join('\n');
console.log(
  `\nprofile ${path.relative(process.cwd(), path.join(profDir, file))}, ${(total / 1e6).toFixed(1)} s of CPU sampled (idle left out), ${files.length} process(es)`,
);
console.log(`\nself time by package:\n${show(byPkg, 15)}`);
console.log(`\nself time by function:\n${show(byFn, opts.top)}`);
