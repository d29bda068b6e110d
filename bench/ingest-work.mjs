#!/usr/bin/env node
// Work per record on the ingest path, counted rather than timed (timings on a shared machine are noisy): SQL
// statements executed and database transactions per stored record, for N pushes sent C at a time to the built
// hub (in this process, its database driver counted). Uses the payloads `npm run bench` generated.
//
//   node bench/ingest-work.mjs [--db sqlite|postgres] [--pushes 400] [--connections 10] [--size small|typical]
//                              [--relay] [--top 0]
//
// --relay runs the outbox relay and its listeners (persons, alerts, face index, event stream, webhooks, brokers)
// as in production, and waits until every event is relayed before counting; without it only the request path is
// counted. --top N lists the N statements run most often (literal numbers folded), to see where they come from.
//
// PostgreSQL needs DATABASE_URL (a fresh database is created next to it and dropped). Run `npm run build` first.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const require = createRequire(path.join(process.cwd(), 'package.json'));
const { values: opts } = parseArgs({
  options: {
    db: { type: 'string', default: 'sqlite' },
    pushes: { type: 'string', default: '400' },
    connections: { type: 'string', default: '10' },
    size: { type: 'string', default: 'small' },
    relay: { type: 'boolean', default: false },
    top: { type: 'string', default: '0' },
  },
});
const counts = { statements: 0, transactions: 0 };
const byStatement = new Map();
function count(sql) {
  counts.statements++;
  if (isTx(sql)) counts.transactions++;
  if (opts.top !== '0') {
    const key = sql
      .replace(/\s+/g, ' ')
      .replace(/\$\d+(, \$\d+)*/g, '$n')
      .replace(/\?(, \?)*/g, '?')
      .slice(0, 140);
    byStatement.set(key, (byStatement.get(key) ?? 0) + 1);
  }
}
const isTx = (sql) => /^\s*(BEGIN|START TRANSACTION)/i.test(sql);

if (opts.db === 'postgres') {
  const { Client } = require('pg');
  const query = Client.prototype.query;
  Client.prototype.query = function (config, ...rest) {
    const text = typeof config === 'string' ? config : config?.text;
    if (text) count(text);
    return query.call(this, config, ...rest);
  };
} else {
  // Every execution of a prepared statement (TypeORM caches them, so prepare() alone undercounts).
  const Database = require('better-sqlite3');
  const prepare = Database.prototype.prepare;
  Database.prototype.prepare = function (sql, ...rest) {
    const statement = prepare.call(this, sql, ...rest);
    for (const method of ['run', 'all', 'get', 'iterate']) {
      const original = statement[method];
      statement[method] = function (...args) {
        count(sql);
        return original.apply(this, args);
      };
    }
    return statement;
  };
  const exec = Database.prototype.exec;
  Database.prototype.exec = function (sql, ...rest) {
    count(sql);
    return exec.call(this, sql, ...rest);
  };
}
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rh-work-'));
let dropDb = async () => undefined;
const env = { NODE_ENV: 'production', LOG_LEVEL: 'warn', DATA_DIR: dataDir, OUTBOX_RELAY_ENABLED: String(opts.relay) };
if (opts.db === 'postgres') {
  const { Client } = require('pg');
  const admin = new Client({ connectionString: process.env.DATABASE_URL });
  await admin.connect();
  const name = `rh_work_${process.pid}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(process.env.DATABASE_URL);
  url.pathname = `/${name}`;
  env.DATABASE_URL = url.toString();
  dropDb = async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  };
}
Object.assign(process.env, env);
const { createApp } = require(path.join(process.cwd(), 'dist/src/bootstrap.js'));
const app = await createApp({ env });
await app.listen(0, '127.0.0.1');
const url = `${await app.getUrl()}/box-callbacks/recognition-records`.replace('[::1]', '127.0.0.1');

// The payloads `npm run bench` generated (bench/.work/payloads), one push per line, unique events.
const dir = path.join(process.cwd(), 'bench/.work/payloads');
const file = fs.readdirSync(dir).find((f) => f.startsWith(`${opts.size}-`) && f.endsWith('.jsonl'));
if (!file) throw new Error(`no ${opts.size} payloads in ${dir}: run npm run bench once`);
const bodies = fs.readFileSync(path.join(dir, file), 'utf8').split('\n').filter(Boolean);
const total = Math.min(Number(opts.pushes), bodies.length);
let next = 0;
let non2xx = 0;
const before = { ...counts };
const started = process.hrtime.bigint();
async function worker() {
  while (next < total) {
    const i = next++;
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bodies[i] });
    if (res.status !== 200) non2xx++;
    await res.arrayBuffer();
  }
}
await Promise.all(Array.from({ length: Number(opts.connections) }, worker));
if (opts.relay) {
  // Until the relay has handed every event to its listeners (their statements are part of a push's cost).
  const { OutboxRelay } = require(path.join(process.cwd(), 'dist/src/events/outbox-relay.service.js'));
  const relay = app.get(OutboxRelay);
  while ((await relay.lag()).pending > 0) await new Promise((r) => setTimeout(r, 50));
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const statements = counts.statements - before.statements;
const transactions = counts.transactions - before.transactions;
console.log(
  `${opts.db} ${opts.size}: ${total} pushes, ${opts.connections} at a time, non-2xx ${non2xx}; ` +
    `${(statements / total).toFixed(2)} statements and ${(transactions / total).toFixed(3)} transactions per record ` +
    `(${(total / seconds).toFixed(0)} req/s in-process, indicative only)${opts.relay ? ', relay and listeners included' : ''}`,
);
if (opts.top !== '0') {
  const top = [...byStatement.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(opts.top));
  for (const [sql, n] of top) console.log(`  ${(n / total).toFixed(3).padStart(7)}  ${sql}`);
}
await app.close();
await dropDb();
fs.rmSync(dataDir, { recursive: true, force: true });
