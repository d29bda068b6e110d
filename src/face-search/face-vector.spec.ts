import { cosine, FACE_DIMENSIONS, normalised, unitVector } from './face-vector';

const bytesOf = (values: number[]) => Buffer.from(new Float32Array(values).buffer);

describe('face vectors', () => {
  it('reads 512 little-endian float32 and normalises them', () => {
    const v = unitVector(bytesOf(Array.from({ length: FACE_DIMENSIONS }, () => 2)));
    expect(v).not.toBeNull();
    expect(cosine(v!, v!)).toBeCloseTo(1, 6);
  });

  it('refuses another length, NaN, infinity and the zero vector', () => {
    expect(unitVector(bytesOf(Array.from({ length: 511 }, () => 1)))).toBeNull();
    expect(unitVector(null)).toBeNull();
    const nan = Array.from({ length: FACE_DIMENSIONS }, () => 1);
    nan[7] = NaN;
    expect(unitVector(bytesOf(nan))).toBeNull();
    nan[7] = Infinity;
    expect(unitVector(bytesOf(nan))).toBeNull();
    expect(normalised(Array.from({ length: FACE_DIMENSIONS }, () => 0))).toBeNull();
  });

  it('gives exact cosine of unit vectors', () => {
    const a = normalised([1, 0, 0])!;
    const b = normalised([1, 1, 0])!;
    expect(cosine(a, b)).toBeCloseTo(Math.SQRT1_2, 6);
  });
});
