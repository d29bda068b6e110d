import { FACE_DIMENSIONS, normalised } from './face-vector';
import { VectorMatrix } from './vector-matrix';

let seed = 11;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
const randomUnit = () => normalised(Array.from({ length: FACE_DIMENSIONS }, rnd))!;
const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i], 0);

describe('VectorMatrix', () => {
  // More than one storage chunk (16,384 vectors), so keys across chunks are exercised.
  const count = 16_500;
  const vectors = Array.from({ length: 40 }, randomUnit);
  const matrix = new VectorMatrix();
  for (let k = 0; k < count; k++) matrix.set(k, vectors[k % 40]);

  it('scores close to the exact dot product, in every chunk', () => {
    const probe = randomUnit();
    for (const k of [0, 17, 16_383, 16_384, 16_499])
      expect(Math.abs(matrix.score(k, probe) - dot(probe, vectors[k % 40]))).toBeLessThan(0.01);
    expect(matrix.score(16_390, vectors[16_390 % 40])).toBeCloseTo(1, 2);
  });

  it('returns the n best of the given keys (or of all), best first', () => {
    const probe = vectors[7];
    const keys = (test: (k: number) => boolean) => Int32Array.from({ length: count }, (_, k) => k).filter(test);
    const best = matrix.nearest(
      probe,
      3,
      keys((k) => k >= 16_000),
    );
    expect(best.map((k) => k % 40)).toEqual([7, 7, 7]);
    expect(best.every((k) => k >= 16_000)).toBe(true);
    const few = matrix.nearest(probe, 50, Int32Array.from([5, 7, 16_407]));
    expect(few).toHaveLength(3);
    expect(few.slice(0, 2).sort((a, b) => a - b)).toEqual([7, 16_407]);
    expect(few[2]).toBe(5);
    // A run of consecutive keys and single keys, within one chunk and across two.
    const asked = [1, 2, 3, 7, 8, 47, 16_380, 16_381, 16_382, 16_383, 16_384, 16_407, 16_408];
    const mixed = matrix.nearest(probe, 20, Int32Array.from(asked));
    expect([...mixed].sort((a, b) => a - b)).toEqual(asked);
    expect(mixed.slice(0, 3).sort((a, b) => a - b)).toEqual([7, 47, 16_407]);
    for (let i = 1; i < mixed.length; i++)
      expect(matrix.score(mixed[i], probe)).toBeLessThanOrEqual(matrix.score(mixed[i - 1], probe) + 0.01);
    expect(matrix.nearest(probe, 0, null)).toEqual([]);
    // Every key: whole chunks scored in place, the best first.
    const all = matrix.nearest(probe, 800, null);
    expect(all).toHaveLength(800);
    expect(new Set(all.slice(0, 413).map((k) => k % 40))).toEqual(new Set([7]));
    expect(all[413] % 40).not.toBe(7);
  });

  it('clear leaves no copy of the vector in its memory: row, sign code and the search scratch area', () => {
    const m = new VectorMatrix();
    const v = randomUnit();
    for (let k = 0; k < 50; k++) m.set(k, k === 9 ? v : vectors[k % 40]);
    expect(m.nearest(v, 1, null)[0]).toBe(9); // copies the rows into the scratch area
    const row = Buffer.from(Int8Array.from(v, (x) => Math.round((x * 127) / Math.max(...v.map(Math.abs)))).buffer);
    const memory = () => Buffer.from((m as unknown as { rows: { bytes(): Int8Array } }).rows.bytes().buffer);
    expect(memory().indexOf(row)).toBeGreaterThanOrEqual(0);
    expect(memory().indexOf(row, memory().indexOf(row) + 1)).toBeGreaterThan(0); // the row and its scratch copy
    m.clear(9);
    expect(memory().indexOf(row)).toBe(-1);
    expect(m.score(9, v)).toBe(0);
    const codes = (m as unknown as { codes: { memory: { bytes(): Int8Array } } }).codes.memory.bytes();
    expect(codes.subarray(9 * 64, 10 * 64).every((b) => b === 0)).toBe(true);
  });

  it('round-trips through bytes, and refuses bytes of another size', () => {
    const bytes = Buffer.concat(matrix.toBuffers());
    const back = VectorMatrix.fromBuffer(bytes, count)!;
    expect(back.size).toBe(count);
    const probe = randomUnit();
    for (const k of [3, 16_384, 16_499]) expect(back.score(k, probe)).toBe(matrix.score(k, probe));
    expect(VectorMatrix.fromBuffer(bytes, count - 1)).toBeNull();
  });

  it('shortlists by sign code and still finds the nearest, as an exact brute force does', () => {
    // Strangers (random unit vectors) and four people seen four times each (cosine about 0.67 between sightings).
    const strangers = Array.from({ length: 3000 }, randomUnit);
    const centres = Array.from({ length: 4 }, randomUnit);
    const sightingOf = (c: Float32Array) => normalised(Array.from(c, (x) => x + rnd() * 0.055))!;
    const all = [...strangers];
    centres.forEach((c) => all.push(...Array.from({ length: 4 }, () => sightingOf(c))));
    const m = new VectorMatrix();
    all.forEach((v, k) => m.set(k, v));
    for (const [p, c] of centres.entries()) {
      const probe = sightingOf(c);
      const exact = all
        .map((v, k) => ({ k, s: dot(probe, v) }))
        .sort((a, b) => b.s - a.s)
        .map((x) => x.k);
      const own = [0, 1, 2, 3].map((i) => 3000 + p * 4 + i);
      expect(exact.slice(0, 4).sort((a, b) => a - b)).toEqual(own);
      const shortlisted = m.nearest(probe, 10, null, 200);
      expect(shortlisted.slice(0, 4).sort((a, b) => a - b)).toEqual(own);
      expect(shortlisted).toHaveLength(10);
      // Within admitted keys too, and a shortlist as long as the keys changes nothing.
      const keys = Int32Array.from({ length: all.length }, (_, k) => k).filter((k) => k % 2 === 0);
      const admitted = m.nearest(probe, 5, keys, 100);
      expect(admitted.slice(0, 2).sort((a, b) => a - b)).toEqual(own.filter((k) => k % 2 === 0));
      expect(m.nearest(probe, 5, keys, keys.length)).toEqual(m.nearest(probe, 5, keys));
    }
  });
});
