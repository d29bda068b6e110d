// Shared plumbing for the benchmarks: where things are, starting and stopping servers, payloads,
// fresh databases, and small statistics helpers.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

export const REPO = path.resolve(import.meta.dirname, '../..');
/** The shared load tools (payload generator, reference receiver, load driver); read-only is fine. */
export const TOOLS = path.resolve(process.env.BENCH_TOOLS_DIR ?? path.join(REPO, '../shared/bench'));
export const WORK = path.join(REPO, 'bench/.work');
export const MAIN_JS = path.join(REPO, 'dist/src/main.js');
export const REPO_DEPS = path.join(REPO, 'bench/lib/repo-deps.mjs');
export const HUB_PATH = '/box-callbacks/recognition-records';

/** Stops with one clear line (no stack trace) when the build or the shared load tools are missing. */
export function requireBuild() {
  const fail = (message) => {
    console.error(message);
    process.exit(1);
  };
  if (!fs.existsSync(MAIN_JS)) fail(`${MAIN_JS} is missing: run npm run build (npm run bench does)`);
  const missing = ['gen-payloads.mjs', 'baseline-receiver.mjs', 'load.mjs'].filter((f) => !fs.existsSync(path.join(TOOLS, f)));
  if (missing.length > 0) {
    fail(
      `The benchmarks need the shared load tools (${missing.join(', ')}) in ${TOOLS}, which is not part of this ` +
        'repository: put the shared bench folder there, or set BENCH_TOOLS_DIR to where it is. npm test does not need them.',
    );
  }
}

/** node argv running one of the shared tools, resolving its dependencies from this repo if needed. */
export const toolArgv = (tool, args = []) => ['--import', REPO_DEPS, path.join(TOOLS, tool), ...args];

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const canConnect = (port) =>
  new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

/** Spawns `node argv` with the given environment and resolves once it accepts connections on port. */
export async function startServer(name, argv, { port, env = process.env, timeoutMs = 60_000 }) {
  const child = spawn(process.execPath, argv, { env, cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d) => {
    out += d;
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  let ended = false;
  void exited.then(() => (ended = true));
  const deadline = Date.now() + timeoutMs;
  while (!(await canConnect(port))) {
    if (ended) throw new Error(`${name} exited before listening:\n${out}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} did not listen within ${timeoutMs} ms:\n${out}`);
    }
    await sleep(100);
  }
  return {
    name,
    pid: child.pid,
    port,
    output: () => out,
    async stop() {
      if (ended) return out;
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.kill('SIGTERM');
      await exited;
      clearTimeout(t);
      return out;
    },
  };
}

export async function startHub({ dataDir, databaseUrl, env = {}, mainJs = MAIN_JS }) {
  const port = await freePort();
  const hubEnv = {
    ...process.env,
    NODE_ENV: 'production',
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    ...env,
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
  };
  // The hub picks its database from DATABASE_URL: an SQLite run must not inherit one.
  delete hubEnv.DATABASE_URL;
  delete hubEnv.SQLITE_PATH;
  delete hubEnv.IMAGE_DIR;
  if (databaseUrl) hubEnv.DATABASE_URL = databaseUrl;
  const nodeFlags = (process.env.BENCH_HUB_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const server = await startServer('hub', [...nodeFlags, mainJs], { port, env: hubEnv });
  return { ...server, url: `http://127.0.0.1:${port}${HUB_PATH}`, base: `http://127.0.0.1:${port}` };
}

/** The reference receiver: SQLite in its data directory, or PostgreSQL at `pgUrl` (`--pg`, a database of its own). */
export async function startReference({ dataDir, pgUrl }) {
  const port = await freePort();
  const args = ['--port', String(port), '--data', dataDir, '--fresh', ...(pgUrl ? ['--pg', pgUrl] : [])];
  const server = await startServer('reference', toolArgv('baseline-receiver.mjs', args), { port });
  return { ...server, url: `http://127.0.0.1:${port}/` };
}

/** Rows the reference stored, from the line it prints when stopped (`stats … rows=N`). */
export function referenceRows(output) {
  const m = /stats .*\brows=(\d+)/.exec(output);
  return m ? Number(m[1]) : null;
}

/** A process and its descendants (cluster workers), from /proc. */
export function processTree(pid) {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    try {
      const children = fs.readFileSync(`/proc/${out[i]}/task/${out[i]}/children`, 'utf8').trim();
      if (children) out.push(...children.split(/\s+/).map(Number));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Resident set size of a process and its descendants now, MiB (the hub's cluster workers counted together). */
export function treeRssMiB(pid) {
  const values = processTree(pid)
    .map(rssMiB)
    .filter((v) => v !== null);
  return values.length ? values.reduce((a, b) => a + b, 0) : null;
}

/** Sum of the peak RSS (VmHWM) of a process and its live descendants, MiB: an upper bound of their peak together. */
export function treePeakRssMiB(pid) {
  const values = processTree(pid)
    .map(peakRssMiB)
    .filter((v) => v !== null);
  return values.length ? values.reduce((a, b) => a + b, 0) : null;
}

/** CPU seconds (user + system) used so far by a process and its live descendants. */
export function treeCpuSeconds(pid) {
  let total = 0;
  for (const p of processTree(pid)) {
    try {
      const f = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
      total += (Number(rest[11]) + Number(rest[12])) / 100;
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

/** Recognition records the hub stored (SQLite file under its data directory, or its PostgreSQL database). */
export async function hubRows({ dataDir, databaseUrl }) {
  return hubCount({ dataDir, databaseUrl }, 'SELECT count(*) AS n FROM recognition_records');
}

/** One count read from the hub's database (`sql` answers one row with a column `n`). */
export async function hubCount({ dataDir, databaseUrl }, sql) {
  if (databaseUrl) {
    const c = new pg.Client({ connectionString: databaseUrl });
    await c.connect();
    try {
      return Number((await c.query(sql)).rows[0].n);
    } finally {
      await c.end();
    }
  }
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(path.join(dataDir, 'recognition-hub.sqlite'), { readonly: true });
  try {
    return Number(db.prepare(sql).get().n);
  } finally {
    db.close();
  }
}

/** Peak resident set size of a process so far, MiB (VmHWM). */
export function peakRssMiB(pid) {
  try {
    return Math.round(Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024);
  } catch {
    return null;
  }
}

export function rssMiB(pid) {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
  } catch {
    return null;
  }
}

/** Generated once and cached in bench/.work/payloads: same size/count/seed gives the same bytes. */
export function ensurePayloads(size, { count, seed = 1 } = {}) {
  const n = count ?? { small: 1000, typical: 100, large: 24 }[size];
  const file = path.join(WORK, 'payloads', `${size}-${n}-seed${seed}.jsonl`);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    console.error(`generating ${n} ${size} payloads (once; cached in ${path.relative(REPO, file)})…`);
    const tmp = `${file}.${process.pid}.tmp`;
    execFileSync(
      process.execPath,
      toolArgv('gen-payloads.mjs', ['--size', size, '--count', String(n), '--seed', String(seed), '--out', tmp, '--quiet']),
      {
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    fs.renameSync(tmp, file);
  }
  return file;
}

export function readJsonl(file) {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));
}

/** A new, empty PostgreSQL database next to the one DATABASE_URL names; drop() removes it. */
export async function freshPostgresDatabase(baseUrl, prefix) {
  const name = `${prefix}_${Date.now()}_${process.pid}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () => dropPostgresDatabase(baseUrl, name),
  };
}

export async function dropPostgresDatabase(baseUrl, name) {
  const c = new pg.Client({ connectionString: baseUrl });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await c.end();
}

export function freshDir(...parts) {
  const dir = path.join(WORK, ...parts);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function median(values) {
  const v = values.filter((x) => x !== null && x !== undefined && !Number.isNaN(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export function machine() {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpu: cpus[0]?.model?.trim() ?? 'unknown',
    memGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
  };
}

export const loadAverage = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

/** Plain-text table: rows of equal-length arrays, first row is the header. */
export function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows
    .map((r, ri) => {
      const line = r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
      return ri === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
    })
    .join('\n');
}

export function parseFlags(argv, defaults) {
  const out = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([\w-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) throw new Error(`unexpected argument ${argv[i]}`);
    const key = m[1].replace(/-(\w)/g, (_, c) => c.toUpperCase());
    if (!(key in defaults)) throw new Error(`unknown option --${m[1]}`);
    if (typeof defaults[key] === 'boolean') out[key] = m[2] === undefined ? true : m[2] !== 'false';
    else {
      const v = m[2] ?? argv[++i];
      out[key] = typeof defaults[key] === 'number' ? Number(v) : v;
    }
  }
  return out;
}

export function writeResult(name, result) {
  const dir = path.join(WORK, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, JSON.stringify(result, null, 2));
  return file;
}
