import * as fs from 'node:fs';
import * as path from 'node:path';
import { unitVector } from '../../src/face-search/face-vector';

/**
 * What a face index snapshot may hold of a record's feature, each as a distinctive 64-byte slice: the i8 copy's row
 * (scaled to the largest component; `copy`), and in the graph (`graph`) usearch's i8 cast (FACE_SEARCH_QUANTIZATION
 * i8, the default) of the unit vector (a record added once the graph was built) or of the vector taken back from the
 * i8 copy (a record the graph took later), computed as src/face-search does.
 */
export function storedForms(feature: number[]): { copy: Buffer; graph: Buffer[] } {
  const v = unitVector(new Uint8Array(new Float32Array(feature).buffer))!;
  let max = 0;
  for (const x of v) max = Math.max(max, Math.abs(x));
  const to = 127 / max;
  const copy = Int8Array.from(v, (x) => Math.round(x * to));
  const back = Float32Array.from(copy, (q) => q * Math.fround(max / 127));
  const slice = (a: Int8Array) => Buffer.from(a.buffer).subarray(100, 164);
  return {
    copy: slice(copy),
    graph: [
      Int8Array.from(v, (x) => Math.trunc(x * 127)),
      Int8Array.from(back, (x) => Math.trunc(x * 127)),
      Int8Array.from(back, (x) => Math.round(x * 127)),
    ].map(slice),
  };
}

/** The snapshot directory's files that hold any of these features. */
export function filesHolding(dir: string, features: number[][]): string[] {
  const forms = features.map(storedForms).flatMap((f) => [f.copy, ...f.graph]);
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((name) => {
    const bytes = fs.readFileSync(path.join(dir, name));
    return forms.some((form) => bytes.includes(form));
  });
}

/** A box record's feature (base64 of float32s, as the box sends it) as numbers, for filesHolding. */
export const featureOfBase64 = (base64: string): number[] => {
  const bytes = Buffer.from(base64, 'base64');
  return Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4));
};
