import { exactSearch, Matches, MetricKind } from 'usearch';
import { FACE_DIMENSIONS } from './face-vector';

/** Vectors per storage chunk (8 MiB of i8): the matrix grows without copying what it holds. */
const CHUNK = 16_384;

/**
 * Every indexed vector once more, as i8 scaled to its largest component (512 bytes and a float a vector), so that a
 * narrow filter can be answered by scanning the vectors it admits instead of walking the graph and throwing most of
 * the walk away. Scores are approximate (about 1% of a component); callers re-rank the nearest exactly.
 */
export class VectorMatrix {
  private chunks: Int8Array[] = [];
  private scales: Float32Array[] = [];
  private length = 0;
  /** Reused by nearest(): the wanted rows of a chunk copied together. */
  private scratch?: Int8Array;

  get size(): number {
    return this.length;
  }

  /** Stores the vector of `key` (keys are dense: 0, 1, 2, …). */
  set(key: number, vector: Float32Array): void {
    while (key >= this.chunks.length * CHUNK) {
      this.chunks.push(new Int8Array(CHUNK * FACE_DIMENSIONS));
      this.scales.push(new Float32Array(CHUNK));
    }
    let max = 0;
    for (let i = 0; i < FACE_DIMENSIONS; i++) max = Math.max(max, Math.abs(vector[i]));
    const chunk = this.chunks[Math.floor(key / CHUNK)];
    const off = (key % CHUNK) * FACE_DIMENSIONS;
    const to = max > 0 ? 127 / max : 0;
    for (let i = 0; i < FACE_DIMENSIONS; i++) chunk[off + i] = Math.round(vector[i] * to);
    this.scales[Math.floor(key / CHUNK)][key % CHUNK] = max > 0 ? max / 127 : 0;
    this.length = Math.max(this.length, key + 1);
  }

  /** Zeroes the vector of `key` (a removed record): its bytes leave memory and every later snapshot. */
  clear(key: number): void {
    if (key >= this.length) return;
    const off = (key % CHUNK) * FACE_DIMENSIONS;
    this.chunks[Math.floor(key / CHUNK)].fill(0, off, off + FACE_DIMENSIONS);
    this.scales[Math.floor(key / CHUNK)][key % CHUNK] = 0;
  }

  /** Approximate dot product of `probe` with the vector of `key`. */
  score(key: number, probe: Float32Array): number {
    const c = Math.floor(key / CHUNK);
    const chunk = this.chunks[c];
    const off = (key % CHUNK) * FACE_DIMENSIONS;
    let s = 0;
    for (let i = 0; i < FACE_DIMENSIONS; i++) s += probe[i] * chunk[off + i];
    return s * this.scales[c][key % CHUNK];
  }

  /**
   * The `n` of `keys` (ascending; null for every key) with the highest scores, best first. Scored by usearch's SIMD
   * kernel (cosine over the i8 rows, about 40x a JavaScript loop), one storage chunk at a time: a chunk whose keys
   * are all wanted is scored in place, otherwise the wanted rows are first copied into a scratch chunk.
   */
  nearest(probe: Float32Array, n: number, keys: Int32Array | null): number[] {
    const total = keys ? keys.length : this.length;
    if (n <= 0 || total === 0) return [];
    const query = new Int8Array(FACE_DIMENSIONS);
    let max = 0;
    for (let i = 0; i < FACE_DIMENSIONS; i++) max = Math.max(max, Math.abs(probe[i]));
    for (let i = 0; i < FACE_DIMENSIONS; i++) query[i] = max > 0 ? Math.round((probe[i] * 127) / max) : 0;
    const found: { key: number; distance: number }[] = [];
    let next = 0; // position in `keys`
    for (let c = 0; c * CHUNK < this.length && next < total; c++) {
      const base = c * CHUNK;
      const inChunk = Math.min(CHUNK, this.length - base);
      let from = next;
      if (keys) while (next < total && keys[next] < base + inChunk) next++;
      else next = base + inChunk;
      if (!keys) from = base;
      const count = next - from;
      if (count === 0) continue;
      const chunk = this.chunks[c];
      let data: Int8Array;
      if (count === inChunk) {
        data = chunk.subarray(0, inChunk * FACE_DIMENSIONS);
      } else {
        this.scratch ??= new Int8Array(CHUNK * FACE_DIMENSIONS);
        // Runs of consecutive keys (records stored in one period) are copied at once.
        for (let r = 0; r < count;) {
          let end = r + 1;
          while (end < count && keys![from + end] === keys![from + end - 1] + 1) end++;
          const at = (keys![from + r] - base) * FACE_DIMENSIONS;
          this.scratch.set(chunk.subarray(at, at + (end - r) * FACE_DIMENSIONS), r * FACE_DIMENSIONS);
          r = end;
        }
        data = this.scratch.subarray(0, count * FACE_DIMENSIONS);
      }
      // usearch reads the arrays from the start of their buffer (it ignores byteOffset): every array passed here
      // starts at offset 0 (the chunks, the scratch chunk and the query are allocated whole).
      const m = exactSearch(data, query, FACE_DIMENSIONS, Math.min(n, count), MetricKind.Cos, 1) as Matches;
      for (let j = 0; j < m.keys.length; j++) {
        const row = Number(m.keys[j]);
        found.push({ key: count === inChunk ? base + row : keys![from + row], distance: m.distances[j] });
      }
    }
    return found
      .sort((a, b) => a.distance - b.distance || a.key - b.key)
      .slice(0, n)
      .map((f) => f.key);
  }

  /** The matrix as bytes: the scales (float32) then the vectors (i8), `size` of each. */
  toBuffers(): Buffer[] {
    const out: Buffer[] = [];
    for (let c = 0; c * CHUNK < this.length; c++) {
      const n = Math.min(CHUNK, this.length - c * CHUNK);
      out.push(Buffer.from(this.scales[c].buffer, 0, n * 4));
    }
    for (let c = 0; c * CHUNK < this.length; c++) {
      const n = Math.min(CHUNK, this.length - c * CHUNK);
      out.push(Buffer.from(this.chunks[c].buffer, 0, n * FACE_DIMENSIONS));
    }
    return out;
  }

  static fromBuffer(bytes: Buffer, size: number): VectorMatrix | null {
    if (bytes.byteLength !== size * (4 + FACE_DIMENSIONS)) return null;
    const m = new VectorMatrix();
    for (let c = 0; c * CHUNK < size; c++) {
      const n = Math.min(CHUNK, size - c * CHUNK);
      const scales = new Float32Array(CHUNK);
      const from = c * CHUNK * 4;
      scales.set(new Float32Array(bytes.buffer.slice(bytes.byteOffset + from, bytes.byteOffset + from + n * 4)));
      const chunk = new Int8Array(CHUNK * FACE_DIMENSIONS);
      const vfrom = size * 4 + c * CHUNK * FACE_DIMENSIONS;
      chunk.set(new Int8Array(bytes.buffer, bytes.byteOffset + vfrom, n * FACE_DIMENSIONS));
      m.scales.push(scales);
      m.chunks.push(chunk);
    }
    m.length = size;
    return m;
  }
}
