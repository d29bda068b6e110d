import { FaceMatrix, FEATURE_DIMENSIONS, unitVector, vectorBytes } from './face-matrix';

const vec = (f: (i: number) => number) => Float32Array.from({ length: FEATURE_DIMENSIONS }, (_, i) => f(i));

describe('unitVector', () => {
  it('normalises 512 float32 values', () => {
    const v = unitVector(vectorBytes(vec(() => 2)))!;
    expect(v[0]).toBeCloseTo(1 / Math.sqrt(FEATURE_DIMENSIONS), 6);
  });

  it.each([
    ['wrong length', Buffer.alloc(100)],
    ['NaN', vectorBytes(vec((i) => (i === 3 ? NaN : 1)))],
    ['infinite', vectorBytes(vec((i) => (i === 3 ? Infinity : 1)))],
    ['zero length', vectorBytes(vec(() => 0))],
    ['null', null],
  ])('refuses %s', (_, bytes) => {
    expect(unitVector(bytes)).toBeNull();
  });
});

describe('FaceMatrix', () => {
  const unit = (i: number) => vec((j) => (j === i ? 1 : 0));

  it('finds by exact cosine, best first, with a floor, a limit and exclusions', () => {
    const m = new FaceMatrix();
    m.set('a', unit(0));
    m.set('b', unitVector(vectorBytes(vec((j) => (j === 0 ? 1 : j === 1 ? 1 : 0))))!);
    m.set('c', unit(1));
    const q = unit(0);
    expect(m.search(q, 0.5, 10).map((x) => [x.key, Number(x.similarity.toFixed(3))])).toEqual([
      ['a', 1],
      ['b', 0.707],
    ]);
    expect(m.search(q, 0.5, 1).map((x) => x.key)).toEqual(['a']);
    expect(m.search(q, 0.5, 10, (k) => k === 'a').map((x) => x.key)).toEqual(['b']);
  });

  it('deletes by moving the last row into the gap, and grows past its first capacity', () => {
    const m = new FaceMatrix();
    for (let i = 0; i < 1500; i++) m.set(`k${i}`, unit(i % FEATURE_DIMENSIONS));
    m.delete('k0');
    expect(m.size).toBe(1499);
    expect(m.has('k0')).toBe(false);
    // k1499 moved into row 0 and is still found by its own vector.
    expect(m.search(unit(1499 % FEATURE_DIMENSIONS), 0.99, 10).map((x) => x.key)).toEqual(['k1499', 'k475', 'k987']);
    m.set('k1', unit(7));
    expect(m.search(unit(1), 0.99, 10).map((x) => x.key)).toEqual(['k1025', 'k513']);
  });
});
