#!/usr/bin/env node
// In-process micro-benchmark of the face index's scan (no HTTP, no database): recall@10 against exact float32 brute
// force and CPU per search, for the whole-index i8 scan and for the sign-code shortlist of several sizes, without a
// filter and with filters admitting about 5% and 8% of the vectors (scattered over the keys, as after a rebuild).
//
//   npm run build && node bench/face-shortlist.mjs [--records 1000000] [--queries 100] [--shortlists 5000,10000,20000]
//     [--filters none,box,week]
//
// Vectors are bench/faces.mjs's synthetic people (same generator and seeds): about 5 sightings per person, two
// sightings of one person at cosine 0.55-0.75, of two people about 0. Each search is: the candidates (40, as the
// service asks for limit 10), then exact float32 cosine of those, best 10 kept (as the service re-ranks them).
// Holds the float32 vectors for the ground truth: about 2.1 GiB at 1,000,000.
import path from 'node:path';
import { exactSearch, MetricKind } from 'usearch';
import { parseFlags, percentile, REPO } from './lib/common.mjs';
import { D, rngOf, sightingOf } from './lib/synthetic-people.mjs';

const opts = parseFlags(process.argv.slice(2), {
  records: 1_000_000,
  queries: 100,
  shortlists: '5000,10000,20000',
  want: 40,
  filters: 'none,box,week',
});
const { VectorMatrix } = await import(path.join(REPO, 'dist/src/face-search/vector-matrix.js'));
const N = opts.records;
const people = Math.max(1, Math.floor(N / 5));

const hashOf = (i) => (i * 2654435761) % 4294967296;
const personOf = (i) => Math.floor(hashOf(i) / 100) % people;

let t = performance.now();
const all = new Float32Array(N * D);
const matrix = new VectorMatrix();
for (let i = 0; i < N; i++) {
  const v = sightingOf(personOf(i), i);
  all.set(v, i * D);
  matrix.set(i, v);
}
console.error(`generated ${N} vectors in ${((performance.now() - t) / 1000).toFixed(1)} s`);
t = performance.now();
const reloaded = VectorMatrix.fromBuffer(Buffer.concat(matrix.toBuffers()), N);
console.error(`fromBuffer (i8 rows + sign codes recomputed) ${((performance.now() - t) / 1000).toFixed(2)} s`);
if (!reloaded) throw new Error('fromBuffer failed');

const probeRng = rngOf(99);
const probes = Array.from({ length: opts.queries }, (_, q) => sightingOf(Math.floor(probeRng() * people), 10_000_000 + q));
const dot = (a, k) => {
  let s = 0;
  for (let j = 0; j < D; j++) s += a[j] * all[k * D + j];
  return s;
};
// Filters: one box of 20 (device = hash % 100, box = device % 20) and a 7-day window of 90 (every 13th key's
// neighbourhood would be contiguous; records are keyed in record-id order after a rebuild, so a window is scattered).
const filters = {
  'no filter': () => null,
  'one box (1 of 20)': (q) => Int32Array.from({ length: N }, (_, i) => i).filter((i) => (hashOf(i) % 100) % 20 === q % 20),
  '7-day window': (q) => {
    const start = (q * 7919) % 83;
    return Int32Array.from({ length: N }, (_, i) => i).filter((i) => {
      const day = Math.floor(((hashOf(i) >>> 3) % 90_000) / 1000);
      return day >= start && day < start + 7;
    });
  },
};
const shortlists = [0, ...String(opts.shortlists).split(',').map(Number)];
const result = {};
const wanted = String(opts.filters).split(',');
const picked = Object.entries(filters).filter((_, i) => wanted.includes(['none', 'box', 'week'][i]));
for (const [name, keysOf] of picked) {
  const keySets = probes.map((_, q) => keysOf(q));
  // Ground truth: exact float32 top 10 among the admitted vectors.
  t = performance.now();
  const truth = probes.map((p, q) => {
    const keys = keySets[q];
    const top = keys
      ? Array.from(keys, (k) => ({ k, s: dot(p, k) }))
          .sort((a, b) => b.s - a.s)
          .slice(0, 10)
      : [...exactSearch(all, p, D, 10, MetricKind.IP, 1).keys].map((k) => ({ k: Number(k), s: dot(p, Number(k)) }));
    return { all: new Set(top.map((x) => x.k)), strong: top.filter((x) => x.s >= 0.4).map((x) => x.k) };
  });
  console.error(`${name}: ground truth in ${((performance.now() - t) / 1000).toFixed(1)} s, admitted ${keySets[0]?.length ?? N}`);
  for (const shortlist of shortlists) {
    const ms = [];
    let hits = 0;
    let strong = 0;
    let strongHits = 0;
    for (let q = 0; q < probes.length; q++) {
      const s = performance.now();
      const cand = reloaded.nearest(probes[q], opts.want, keySets[q], shortlist);
      ms.push(performance.now() - s);
      const best = cand
        .map((k) => ({ k, s: dot(probes[q], k) }))
        .sort((a, b) => b.s - a.s)
        .slice(0, 10);
      hits += best.filter((b) => truth[q].all.has(b.k)).length;
      // The matches at or above the default minSimilarity (0.4): the same person's sightings.
      strong += truth[q].strong.length;
      strongHits += truth[q].strong.filter((k) => best.some((b) => b.k === k)).length;
    }
    ms.sort((a, b) => a - b);
    const r = {
      recallAt10: +(hits / (probes.length * 10)).toFixed(3),
      recallAbove04: strong ? +(strongHits / strong).toFixed(3) : null,
      p50: +percentile(ms, 50).toFixed(1),
      p95: +percentile(ms, 95).toFixed(1),
      p99: +percentile(ms, 99).toFixed(1),
    };
    result[`${name}, ${shortlist ? `shortlist ${shortlist}` : 'i8 scan of all'}`] = r;
    console.error(`${name}, ${shortlist ? `shortlist ${shortlist}` : 'i8 scan of all admitted'}: ${JSON.stringify(r)}`);
  }
}
console.log(JSON.stringify({ records: N, queries: opts.queries, want: opts.want, result }, null, 2));
