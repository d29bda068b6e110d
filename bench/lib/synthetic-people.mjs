/**
 * Synthetic people for the face benchmarks (bench/faces.mjs, bench/face-shortlist.mjs): each person a seeded random
 * unit centre in R^512; a sighting is normalise(centre + n), n ~ N(0, ratio/512 I) with ratio drawn per sighting from
 * U(0.33, 0.82), so two sightings of one person have cosine about 0.55-0.75 and two people about 0.
 */
export const D = 512;

/** mulberry32: small, seeded, good enough for synthetic data. */
export function rngOf(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussFill(v, rng, scale = 1) {
  for (let i = 0; i < v.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(rng() + 1e-300)) * scale;
    const a = 2 * Math.PI * rng();
    v[i] = r * Math.cos(a);
    if (i + 1 < v.length) v[i + 1] = r * Math.sin(a);
  }
  return v;
}

function normalise(v) {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n);
  for (let i = 0; i < v.length; i++) v[i] /= n;
  return v;
}

export const centreOf = (p) => normalise(gaussFill(new Float32Array(D), rngOf(1_000_003 * (p + 1))));

/** Sighting `salt` of person p. */
export function sightingOf(p, salt) {
  const rng = rngOf(7_919 * salt + 17);
  const c = centreOf(p);
  const ratio = 0.33 + rng() * 0.49;
  const noise = gaussFill(new Float32Array(D), rng, Math.sqrt(ratio / D));
  for (let i = 0; i < D; i++) noise[i] += c[i];
  return normalise(noise);
}
