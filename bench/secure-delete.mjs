#!/usr/bin/env node
// What PRAGMA secure_delete=ON (data-source-options.ts) costs on the hub's SQLite write pattern, measured as CPU
// time per record with better-sqlite3 alone (no HTTP, so the figure holds on a busy machine): ingest (record row
// with a 2 kB feature and image hashes, plus its outbox row, 64 per transaction), relay (outbox row marked
// processed), erasure (biometric columns set to NULL) and retention purge (rows deleted). OFF and ON alternate.
//
//   node bench/secure-delete.mjs [records per round, 4000] [rounds, 5]
import Database from 'better-sqlite3';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'rh-secure-delete-'));
const N = Number(process.argv[2] ?? 4000),
  ROUNDS = Number(process.argv[3] ?? 5);
function open(mode) {
  const file = path.join(DIR, `db-${mode}.sqlite`);
  for (const f of [file, file + '-wal', file + '-shm']) fs.rmSync(f, { force: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('temp_store = MEMORY');
  db.pragma(`secure_delete = ${mode}`);
  db.exec(`CREATE TABLE r (id TEXT PRIMARY KEY, box TEXT, ts INTEGER, name TEXT, attrs TEXT, feature BLOB, landmarks TEXT,
    reg TEXT, spot TEXT, ir TEXT, face TEXT);
    CREATE INDEX r_ts ON r(ts, id); CREATE INDEX r_spot ON r(spot); CREATE INDEX r_face ON r(face); CREATE INDEX r_reg ON r(reg);
    CREATE TABLE o (id INTEGER PRIMARY KEY, type TEXT, agg TEXT, payload TEXT, created INTEGER, processed INTEGER);
    CREATE INDEX o_due ON o(processed, created);`);
  return db;
}
function rows(n, base) {
  return Array.from({ length: n }, (_, i) => ({
    id: crypto.randomUUID(),
    ts: base + i,
    feature: crypto.randomBytes(2048),
    spot: crypto.randomBytes(32).toString('hex'),
    face: crypto.randomBytes(32).toString('hex'),
    reg: crypto.randomBytes(32).toString('hex'),
  }));
}
function run(mode, data) {
  const db = open(mode);
  const ins = db.prepare(
    `INSERT INTO r VALUES (@id, 'box', @ts, 'name', '{"gender":"male","age":"30"}', @feature, '[1,2,3,4,5,6,7,8,9,10]', @reg, @spot, NULL, @face)`,
  );
  const ob = db.prepare(`INSERT INTO o (type, agg, payload, created) VALUES ('recognition.recorded', ?, ?, ?)`);
  const done = db.prepare(`UPDATE o SET processed = ? WHERE id = ?`);
  const strip = db.prepare(`UPDATE r SET feature = NULL, spot = NULL, face = NULL, reg = NULL, landmarks = NULL WHERE id = ?`);
  const del = db.prepare(`DELETE FROM r WHERE id = ?`);
  const group = (items, fn) => {
    for (let i = 0; i < items.length; i += 64) db.transaction(() => items.slice(i, i + 64).forEach((r, j) => fn(r, i + j)))();
  };
  const cpu = (fn) => {
    const t = process.cpuUsage();
    fn();
    const u = process.cpuUsage(t);
    return (u.user + u.system) / data.length;
  };
  const ingest = cpu(() =>
    group(data, (r) => {
      ins.run(r);
      ob.run(r.id, JSON.stringify({ record: { recordId: r.id, boxId: 'b', occurredAt: r.ts } }), r.ts);
    }),
  );
  const relay = cpu(() => group(data, (r, i) => done.run(Date.now(), i + 1)));
  const erase = cpu(() => group(data.slice(0, data.length / 2), (r) => strip.run(r.id))) * 2;
  const purge = cpu(() => group(data.slice(data.length / 2), (r) => del.run(r.id))) * 2;
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return { ingest, relay, erase, purge };
}
const out = { OFF: [], ON: [] };
for (let k = 0; k < ROUNDS; k++) for (const mode of k % 2 ? ['ON', 'OFF'] : ['OFF', 'ON']) out[mode].push(run(mode, rows(N, k * N)));
const med = (a) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)];
for (const mode of ['OFF', 'ON']) {
  const m = {};
  for (const key of ['ingest', 'relay', 'erase', 'purge']) m[key] = +med(out[mode].map((r) => r[key])).toFixed(1);
  console.log(`secure_delete=${mode}: CPU µs per record (median of ${ROUNDS})`, JSON.stringify(m));
}
fs.rmSync(DIR, { recursive: true, force: true });
