#!/usr/bin/env node
// Event-loop time of a box push before the database: the JSON body parser, the push pipe and the mapper (which
// decodes the images), run on the built hub's modules over recorded pushes. Two ways, alternating round by round in
// one process: "lifted" as the push routes parse (images left as the body's bytes and decoded from them), "strings"
// as before (and as the REST routes parse: every image a JavaScript string, decoded with Buffer.from). Each push is
// one synchronous run, as in the hub; the time includes the garbage collection it causes. --base adds a third way,
// another build (its dist directory, e.g. the main branch's) run as it parses a push.
//
//   node bench/parse-decode.mjs [--file bench/.work/payloads/typical-100-seed1.jsonl] [--rounds 12] [--base dir/dist]
//
// Needs `npm run build`. One push per line of the file (bench/ingest.mjs writes them to bench/.work/payloads).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'package.json'));
require('reflect-metadata');
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : args[i + 1];
};
const file = flag('file', path.join(root, 'bench/.work/payloads/typical-100-seed1.jsonl'));
const rounds = Number(flag('rounds', 12));
const base = flag('base', null);

/** The parser, pipe and mapper of a build; liftKeys as the push routes pass them, or none. */
function build(dist, lifted) {
  const load = (p) => require(path.resolve(dist, 'src', p));
  const { parseJsonBody } = load('common/json-body.js');
  const { BoxCallbackBodyPipe, BOX_LIFTED_KEYS } = load('box-callbacks/box-callback-body.pipe.js');
  const { toIngestCommand } = load('box-callbacks/recognition-record.mapper.js');
  return { parseJsonBody, pipe: new BoxCallbackBodyPipe(), toIngestCommand, liftKeys: lifted ? BOX_LIFTED_KEYS : undefined };
}
const modes = {
  ...(base ? { base: build(base, false) } : {}),
  strings: build(path.join(root, 'dist'), false),
  lifted: build(path.join(root, 'dist'), true),
};

const pushes = fs
  .readFileSync(file, 'utf8')
  .split('\n')
  .filter((l) => l.length > 0)
  .map((l) => Buffer.from(l));
const opts = { maxImageBytes: 16 * 1024 * 1024, receivedAt: Date.now() };

/** Parse, pipe and map one push; the image bytes are what the hub would store. */
function ingest(buf, { parseJsonBody, pipe, toIngestCommand, liftKeys }) {
  const t0 = process.hrtime.bigint();
  const body = parseJsonBody(buf, liftKeys);
  const t1 = process.hrtime.bigint();
  const commands = pipe.transform(body).map((r) => toIngestCommand(r, null, opts));
  const t2 = process.hrtime.bigint();
  return { parse: Number(t1 - t0) / 1e3, map: Number(t2 - t1) / 1e3, commands };
}

// Every way stores the same images and defects.
for (const buf of pushes) {
  const [a, ...others] = Object.values(modes).map((m) => ingest(buf, m).commands);
  const shown = (cs) =>
    JSON.stringify(
      cs.map((c) => ({ ...c, receivedAt: 0, images: Object.entries(c.images).map(([k, v]) => [k, v.bytes.toString('base64')]) })),
    );
  if (others.some((b) => shown(a) !== shown(b))) throw new Error('the ways disagree');
}
const sizes = pushes.map((b) => b.length).sort((x, y) => x - y);
console.log(
  `${pushes.length} pushes from ${path.relative(root, file)}, median ${(sizes[sizes.length >> 1] / 1024).toFixed(0)} KB; node ${process.version}`,
);

const results = Object.fromEntries(Object.keys(modes).map((m) => [m, []]));
for (let round = 0; round < rounds + 2; round++) {
  for (const [mode, m] of round % 2 === 0 ? Object.entries(modes) : Object.entries(modes).reverse()) {
    const per = pushes.map((buf) => ingest(buf, m));
    if (round >= 2) results[mode].push(...per); // two rounds of warm-up
  }
}

const stat = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { mean: s.reduce((a, b) => a + b, 0) / s.length, p50: q(0.5), p90: q(0.9), p99: q(0.99) };
};
const row = (label, xs) => {
  const { mean, p50, p90, p99 } = stat(xs);
  return `${label.padEnd(22)} mean ${mean.toFixed(0).padStart(5)}  p50 ${p50.toFixed(0).padStart(5)}  p90 ${p90.toFixed(0).padStart(5)}  p99 ${p99.toFixed(0).padStart(5)} us`;
};
for (const mode of Object.keys(modes)) {
  const r = results[mode];
  console.log(
    row(
      `${mode}: parse`,
      r.map((x) => x.parse),
    ),
  );
  console.log(
    row(
      `${mode}: pipe + map`,
      r.map((x) => x.map),
    ),
  );
  console.log(
    row(
      `${mode}: total`,
      r.map((x) => x.parse + x.map),
    ),
  );
}
