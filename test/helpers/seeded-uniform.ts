/**
 * A seeded generator of numbers in [-1, 1) (mulberry32): the same numbers on every run, and no repeats within the
 * millions a test's vectors take (a short linear congruential generator repeats after about 10,000, so a removed
 * vector's bytes could be found again inside a later one).
 */
export function seededUniform(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1;
  };
}
