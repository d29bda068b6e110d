import { FACE_DIMENSIONS } from './face-vector';
import { SignCodes } from './sign-codes';

let seed = 7;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
const randomVector = () => Float32Array.from({ length: FACE_DIMENSIONS }, rnd);
/** The i8 row of a vector, as VectorMatrix stores it (codes are taken from rows). */
const rowOf = (v: Float32Array) => Int8Array.from(v, (x) => Math.round(x * 127));
const hamming = (row: Int8Array, b: Float32Array) => row.reduce((d, x, i) => d + (x > 0 !== b[i] > 0 ? 1 : 0), 0);

/** The `n` nearest of `keys` by Hamming distance, ties by the lower key, in ascending key order. */
function bruteForce(rows: Int8Array[], probe: Float32Array, n: number, keys: number[]): number[] {
  return keys
    .map((k) => ({ k, d: hamming(rows[k], probe) }))
    .sort((a, b) => a.d - b.d || a.k - b.k)
    .slice(0, n)
    .map((x) => x.k)
    .sort((a, b) => a - b);
}

describe('SignCodes', () => {
  // Enough codes to grow the WebAssembly memory past its first pages more than once.
  const count = 3000;
  const vectors = Array.from({ length: count }, randomVector);
  const rows = vectors.map(rowOf);
  // One level, every dimension weighing 1: the plain Hamming distance.
  const codes = new SignCodes(1, 0);
  rows.forEach((row, k) => codes.set(k, row, 0));

  it('picks the codes nearest by Hamming distance, as a brute force does', () => {
    expect(codes.size).toBe(count);
    const every = Array.from({ length: count }, (_, k) => k);
    for (let q = 0; q < 5; q++) {
      const probe = randomVector();
      for (const n of [1, 10, 137]) expect([...codes.nearest(probe, n, null)]).toEqual(bruteForce(rows, probe, n, every));
    }
  });

  it('scans only the given keys, and gives them all back when they are not more than asked for', () => {
    const keys = Array.from({ length: count }, (_, k) => k).filter((k) => k % 7 === 3 || k > 2900);
    const probe = randomVector();
    expect([...codes.nearest(probe, 25, Int32Array.from(keys))]).toEqual(bruteForce(rows, probe, 25, keys));
    expect([...codes.nearest(probe, 5, Int32Array.from([4, 99, 2999]))]).toEqual([4, 99, 2999]);
    expect(codes.nearest(probe, 0, null)).toHaveLength(0);
    expect(codes.nearest(probe, 3, new Int32Array(0))).toHaveLength(0);
  });

  it('finds a vector from its own sign (distance 0) and a near copy before strangers, weighted or not', () => {
    const near = Float32Array.from(vectors[1234], (x, i) => (i % 50 === 0 ? -x : x)); // 11 signs flipped
    const weighted = new SignCodes();
    rows.forEach((row, k) => weighted.set(k, row, 0));
    for (const c of [codes, weighted]) {
      expect([...c.nearest(vectors[1234], 1, null)]).toEqual([1234]);
      expect([...c.nearest(near, 1, null)]).toEqual([1234]);
    }
  });

  it('weighs a differing bit by the size of the probe there', () => {
    // Two codes one bit off the probe's: where the probe is large (weight 3) and where it is near 0 (weight 0).
    const probe = Float32Array.from({ length: FACE_DIMENSIONS }, (_, i) => (i % 2 ? 1 : -1) * (i === 0 ? 3 : 1));
    probe[1] = 0.001;
    const flip = (i: number) => Int8Array.from(probe, (x, j) => (j === i ? -1 : 1) * Math.sign(x) * 100);
    const c = new SignCodes(3, 1.5);
    c.set(0, flip(0), 0);
    c.set(1, flip(1), 0);
    c.set(2, flip(2), 0);
    expect([...c.nearest(probe, 1, null)]).toEqual([1]);
    expect([...c.nearest(probe, 2, null)]).toEqual([1, 2]);
  });
});
