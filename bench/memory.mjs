#!/usr/bin/env node
// Memory under a burst of big pushes: 32 concurrent bodies of 6 MiB each (JSON arrays of typical records,
// as a box sends after an outage), several rounds. Passes when the hub's peak RSS stays under the limit,
// every push is answered 200, and every record and image is in the database / image store afterwards. With cluster
// workers (PostgreSQL, WEB_CONCURRENCY) the RSS of the primary and every worker is summed.
//
//   node bench/memory.mjs [--db sqlite|postgres] [--concurrency 32] [--body-mib 6] [--rounds 3] [--limit-mib 1024]
//                         [--web-concurrency N]
//
// --db postgres needs DATABASE_URL (a fresh database is created next to it and dropped). The peak is the highest
// sampled sum (every 20 ms) and, as an upper bound, the sum of each process's own peak (VmHWM).
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import {
  ensurePayloads,
  freshDir,
  freshPostgresDatabase,
  loadAverage,
  machine,
  parseFlags,
  readJsonl,
  requireBuild,
  startHub,
  treePeakRssMiB,
  treeRssMiB,
  writeResult,
  processTree,
} from './lib/common.mjs';

const processCount = (pid) => processTree(pid).length;

const opts = parseFlags(process.argv.slice(2), {
  db: 'sqlite',
  concurrency: 32,
  bodyMib: 6,
  rounds: 3,
  limitMib: 1024,
  webConcurrency: 0,
});
requireBuild();
if (opts.db === 'postgres' && !process.env.DATABASE_URL) throw new Error('--db postgres needs DATABASE_URL');

const records = readJsonl(ensurePayloads('typical'));
let nextTs = Date.now();
let cursor = 0;
/** A JSON array of distinct typical records (fresh timestamps) of at least bodyMib MiB. */
function makeBody() {
  const parts = [];
  let bytes = 2;
  while (bytes < opts.bodyMib * 1024 * 1024) {
    const r = { ...records[cursor++ % records.length], timestamp: nextTs++ };
    const json = JSON.stringify(r);
    parts.push(json);
    bytes += Buffer.byteLength(json) + 1;
  }
  return { body: Buffer.from(`[${parts.join(',')}]`), count: parts.length };
}

function post(url, body, agent) {
  return new Promise((resolve) => {
    const req = http.request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode, text }));
      },
    );
    // A refused or reset push is a failure to report, not a crash of the benchmark.
    req.on('error', (e) => resolve({ status: e.code ?? 'error', text: e.message }));
    req.end(body);
  });
}

const pgDb = opts.db === 'postgres' ? await freshPostgresDatabase(process.env.DATABASE_URL, 'rh_bench_mem') : null;
const dataDir = freshDir(`memory-${opts.db}`);
const hub = await startHub({
  dataDir,
  databaseUrl: pgDb?.url,
  env: opts.webConcurrency > 0 ? { WEB_CONCURRENCY: String(opts.webConcurrency) } : {},
});
console.log(
  `machine: ${machine().cores} cores, Node ${process.version}; load average ${loadAverage()}\n` +
    `${opts.db}: ${opts.rounds} rounds of ${opts.concurrency} concurrent ${opts.bodyMib} MiB pushes; hub idle RSS ${treeRssMiB(hub.pid)?.toFixed(0)} MiB (${processCount(hub.pid)} processes)`,
);

let sampledPeak = 0;
const sampler = setInterval(() => {
  const r = treeRssMiB(hub.pid);
  if (r !== null && r > sampledPeak) sampledPeak = r;
}, 20);
let sent = 0;
let acknowledged = 0;
const failures = [];
const t0 = Date.now();
try {
  for (let round = 1; round <= opts.rounds; round++) {
    const bodies = Array.from({ length: opts.concurrency }, makeBody);
    // A fresh agent per round: building the bodies blocks the event loop for seconds, long enough for the hub to close
    // idle keep-alive sockets whose close this process has not seen yet (reusing one fails with EPIPE).
    const agent = new http.Agent({ keepAlive: true, maxSockets: opts.concurrency });
    const rt = Date.now();
    const answers = await Promise.all(bodies.map((b) => post(hub.url, b.body, agent)));
    agent.destroy();
    answers.forEach((a, i) => {
      sent += bodies[i].count;
      if (a.status === 200) acknowledged += bodies[i].count;
      else failures.push(`${a.status} ${a.text.slice(0, 200)}`);
    });
    console.log(
      `  round ${round}: ${answers.filter((a) => a.status === 200).length}/${bodies.length} pushes 200 ` +
        `(${bodies[0].count} records, ${(bodies[0].body.length / 2 ** 20).toFixed(1)} MiB each) in ${Date.now() - rt} ms; ` +
        `peak RSS so far ${Math.round(sampledPeak)} MiB sampled, ${treePeakRssMiB(hub.pid)} MiB summed per-process peaks`,
    );
  }
} finally {
  clearInterval(sampler);
}
const elapsed = Date.now() - t0;
const peakUpperBound = treePeakRssMiB(hub.pid);
const peak = Math.round(sampledPeak);
const hubOutput = await hub.stop();

// Nothing lost: every acknowledged record is a row, every referenced image a file with the right bytes.
let rows;
let shas;
if (pgDb) {
  const c = new pg.Client({ connectionString: pgDb.url });
  await c.connect();
  rows = Number((await c.query('SELECT count(*) AS n FROM recognition_records')).rows[0].n);
  shas = (await c.query('SELECT reg_image_sha256 a, spot_image_sha256 b, ir_image_sha256 c, face_image_sha256 d FROM recognition_records'))
    .rows;
  await c.end();
  await pgDb.drop();
} else {
  const db = new Database(path.join(dataDir, 'recognition-hub.sqlite'), { readonly: true });
  rows = db.prepare('SELECT count(*) AS n FROM recognition_records').get().n;
  shas = db
    .prepare('SELECT reg_image_sha256 a, spot_image_sha256 b, ir_image_sha256 c, face_image_sha256 d FROM recognition_records')
    .all();
  db.close();
}
const distinct = new Set(shas.flatMap((r) => [r.a, r.b, r.c, r.d]).filter(Boolean));
let badImages = 0;
for (const sha of distinct) {
  const file = path.join(dataDir, 'images', sha.slice(0, 2), sha.slice(2, 4), sha);
  if (!fs.existsSync(file) || crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex') !== sha) badImages++;
}
const imagesPerRecord = shas.every((r) => r.b && r.d);

const pass = peak < opts.limitMib && failures.length === 0 && rows === sent && badImages === 0 && imagesPerRecord;
const result = {
  machine: machine(),
  options: opts,
  db: opts.db,
  sentRecords: sent,
  acknowledgedRecords: acknowledged,
  rowsInDatabase: rows,
  distinctImages: distinct.size,
  badImages,
  failures,
  peakRssMiB: peak,
  summedProcessPeaksMiB: peakUpperBound,
  elapsedMs: elapsed,
  pass,
  load: loadAverage(),
};
writeResult(`memory-${opts.db}`, result);
console.log(
  `\n${pass ? 'PASS' : 'FAIL'}: peak RSS ${peak} MiB (limit ${opts.limitMib}; per-process peaks summed: ${peakUpperBound} MiB); ${acknowledged}/${sent} records acknowledged, ` +
    `${rows} rows in the database; ${distinct.size} distinct images, ${badImages} missing or corrupt; ` +
    `${(sent / (elapsed / 1000)).toFixed(0)} records/s overall; load average ${loadAverage()}`,
);
if (failures.length) {
  console.log(`failures:\n  ${failures.slice(0, 5).join('\n  ')}`);
  const errors = hubOutput.split('\n').filter((l) => /"level":(50|60)/.test(l));
  console.log(
    `hub error log (last 3 of ${errors.length}):\n  ${errors
      .slice(-3)
      .map((l) => l.slice(0, 600))
      .join('\n  ')}`,
  );
}
process.exitCode = pass ? 0 : 1;
