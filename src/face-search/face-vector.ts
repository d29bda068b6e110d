/** The boxes' face feature: 512 little-endian float32, L2-normalised. */
export const FACE_DIMENSIONS = 512;

/**
 * The feature as a unit Float32Array, or null when it cannot be indexed or compared: another length, a NaN or
 * infinity, or all zeros. Those records already carry a defect; they are left out of the index, never "repaired".
 */
export function unitVector(bytes: Uint8Array | null): Float32Array | null {
  if (!bytes || bytes.byteLength !== FACE_DIMENSIONS * 4) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const v = new Float32Array(FACE_DIMENSIONS);
  for (let i = 0; i < FACE_DIMENSIONS; i++) v[i] = view.getFloat32(i * 4, true);
  return normalised(v);
}

/** A copy scaled to length 1, or null when a value is not finite or the vector is zero. */
export function normalised(values: ArrayLike<number>): Float32Array | null {
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (!Number.isFinite(x)) return null;
    sum += x * x;
  }
  const norm = Math.sqrt(sum);
  if (!(norm > 0) || !Number.isFinite(norm)) return null;
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i] / norm;
  return out;
}

/** Exact cosine similarity of two unit vectors (accumulated in double precision). */
export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i] * b[i];
  return Math.max(-1, Math.min(1, dot));
}
