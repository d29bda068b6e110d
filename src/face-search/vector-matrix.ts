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

  /** Approximate dot product of `probe` with the vector of `key`. */
  score(key: number, probe: Float32Array): number {
    const c = Math.floor(key / CHUNK);
    const chunk = this.chunks[c];
    const off = (key % CHUNK) * FACE_DIMENSIONS;
    let s = 0;
    for (let i = 0; i < FACE_DIMENSIONS; i++) s += probe[i] * chunk[off + i];
    return s * this.scales[c][key % CHUNK];
  }

  /** The `n` keys that pass `test` with the highest scores, best first. */
  nearest(probe: Float32Array, n: number, test: (key: number) => boolean): number[] {
    // A min-heap of the best n so far: its root is the score to beat.
    const keys: number[] = [];
    const scores: number[] = [];
    const swap = (a: number, b: number) => {
      [keys[a], keys[b]] = [keys[b], keys[a]];
      [scores[a], scores[b]] = [scores[b], scores[a]];
    };
    const down = (i: number) => {
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < keys.length && scores[l] < scores[m]) m = l;
        if (r < keys.length && scores[r] < scores[m]) m = r;
        if (m === i) return;
        swap(i, m);
        i = m;
      }
    };
    if (n <= 0) return [];
    for (let k = 0; k < this.length; k++) {
      if (!test(k)) continue;
      const s = this.score(k, probe);
      if (keys.length < n) {
        keys.push(k);
        scores.push(s);
        for (let i = keys.length - 1; i > 0 && scores[(i - 1) >> 1] > scores[i]; i = (i - 1) >> 1) swap(i, (i - 1) >> 1);
      } else if (s > scores[0]) {
        keys[0] = k;
        scores[0] = s;
        down(0);
      }
    }
    return keys
      .map((k, i) => ({ k, s: scores[i] }))
      .sort((a, b) => b.s - a.s)
      .map((x) => x.k);
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
