import { exactSearch, Matches, MetricKind } from 'usearch';
import { FACE_DIMENSIONS } from './face-vector';
import { GrowableMemory, SignCodes } from './sign-codes';

/** Scales per storage chunk: the scales grow without copying what they hold. */
const CHUNK = 16_384;
/** Rows scored per usearch call: the scratch area at the start of the rows' memory (8 MiB). */
const BATCH = 16_384;
const SCRATCH = BATCH * FACE_DIMENSIONS;

/**
 * Every indexed vector once more, as i8 scaled to its largest component (512 bytes and a float a vector), so that a
 * search can be answered by scanning the vectors it admits instead of walking the graph; and its 1-bit sign code (64
 * bytes, derived from the i8 row, never saved), so that a large scan first shortlists by Hamming distance and scores
 * only the shortlist from the i8 rows. Scores are approximate (about 1% of a component); callers re-rank exactly.
 *
 * The rows live in one growable memory (a WebAssembly memory, grown in place), after a scratch area at its start:
 * the rows to score are copied there with copyWithin (about 35 ns a row, where a copy between two buffers costs
 * about 0.4 µs in a view per row), and usearch, which reads an array from the start of its buffer whatever its
 * byteOffset, scores the scratch area. The memory holds up to about 8 million vectors (4 GiB).
 */
export class VectorMatrix {
  private readonly rows = new GrowableMemory(SCRATCH);
  private scales: Float32Array[] = [];
  private length = 0;
  private readonly codes = new SignCodes();
  /** Rows of the scratch area holding copies since it was last wiped. */
  private scratchRows = 0;

  get size(): number {
    return this.length;
  }

  private rowAt(key: number): number {
    return SCRATCH + key * FACE_DIMENSIONS;
  }

  /** Stores the vector of `key` (keys are dense: 0, 1, 2, …). */
  set(key: number, vector: Float32Array): void {
    while (key >= this.scales.length * CHUNK) this.scales.push(new Float32Array(CHUNK));
    this.rows.reserve(this.rowAt(key + 1));
    let max = 0;
    for (let i = 0; i < FACE_DIMENSIONS; i++) max = Math.max(max, Math.abs(vector[i]));
    const bytes = this.rows.bytes();
    const off = this.rowAt(key);
    const to = max > 0 ? 127 / max : 0;
    for (let i = 0; i < FACE_DIMENSIONS; i++) bytes[off + i] = Math.round(vector[i] * to);
    this.scales[Math.floor(key / CHUNK)][key % CHUNK] = max > 0 ? max / 127 : 0;
    this.codes.set(key, bytes, off);
    this.length = Math.max(this.length, key + 1);
  }

  /** Zeroes the vector of `key` (a removed record): its bytes leave memory and every later snapshot. */
  clear(key: number): void {
    if (key >= this.length) return;
    const bytes = this.rows.bytes();
    const off = this.rowAt(key);
    bytes.fill(0, off, off + FACE_DIMENSIONS);
    this.scales[Math.floor(key / CHUNK)][key % CHUNK] = 0;
    // Its sign code too (all zero bits from the zeroed row): derived from the vector, so it goes with it.
    this.codes.set(key, bytes, off);
    // Copies made for earlier searches may include it: wiped too (once, until a search copies rows again).
    if (this.scratchRows > 0) bytes.fill(0, 0, this.scratchRows * FACE_DIMENSIONS);
    this.scratchRows = 0;
  }

  /** The stored (approximate) vector of `key` into `out`: zeros for a cleared row. */
  vector(key: number, out: Float32Array): Float32Array {
    const bytes = this.rows.bytes();
    const off = this.rowAt(key);
    const scale = this.scales[Math.floor(key / CHUNK)][key % CHUNK];
    for (let i = 0; i < FACE_DIMENSIONS; i++) out[i] = bytes[off + i] * scale;
    return out;
  }

  /** Approximate dot product of `probe` with the vector of `key`. */
  score(key: number, probe: Float32Array): number {
    const bytes = this.rows.bytes();
    const off = this.rowAt(key);
    let s = 0;
    for (let i = 0; i < FACE_DIMENSIONS; i++) s += probe[i] * bytes[off + i];
    return s * this.scales[Math.floor(key / CHUNK)][key % CHUNK];
  }

  /**
   * The `n` of `keys` (ascending; null for every key) with the highest scores, best first. When they are more than
   * `shortlist` (0: never), the `shortlist` nearest by sign code are picked first (a scan of 64 bytes a vector) and
   * only those are scored. Scored by usearch's SIMD kernel (cosine over the i8 rows), BATCH rows at a time.
   */
  nearest(probe: Float32Array, n: number, keys: Int32Array | null, shortlist = 0): number[] {
    if (shortlist > 0 && n <= shortlist && (keys ? keys.length : this.length) > shortlist) {
      keys = this.codes.nearest(probe, shortlist, keys);
    }
    const total = keys ? keys.length : this.length;
    if (n <= 0 || total === 0) return [];
    const query = new Int8Array(FACE_DIMENSIONS);
    let max = 0;
    for (let i = 0; i < FACE_DIMENSIONS; i++) max = Math.max(max, Math.abs(probe[i]));
    for (let i = 0; i < FACE_DIMENSIONS; i++) query[i] = max > 0 ? Math.round((probe[i] * 127) / max) : 0;
    const bytes = this.rows.bytes();
    const found: { key: number; distance: number }[] = [];
    for (let from = 0; from < total; from += BATCH) {
      const count = Math.min(BATCH, total - from);
      // Runs of consecutive keys (records stored in one period, or every key) are copied at once.
      for (let r = 0; r < count;) {
        const first = keys ? keys[from + r] : from + r;
        let end = r + 1;
        if (keys) while (end < count && keys[from + end] === first + (end - r)) end++;
        else end = count;
        const at = this.rowAt(first);
        bytes.copyWithin(r * FACE_DIMENSIONS, at, at + (end - r) * FACE_DIMENSIONS);
        r = end;
      }
      this.scratchRows = Math.max(this.scratchRows, count);
      // The scratch area starts the buffer, as usearch needs.
      const data = new Int8Array(bytes.buffer, 0, count * FACE_DIMENSIONS);
      const m = exactSearch(data, query, FACE_DIMENSIONS, Math.min(n, count), MetricKind.Cos, 1) as Matches;
      for (let j = 0; j < m.keys.length; j++) {
        const row = from + Number(m.keys[j]);
        found.push({ key: keys ? keys[row] : row, distance: m.distances[j] });
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
    out.push(Buffer.from(this.rows.bytes().buffer, SCRATCH, this.length * FACE_DIMENSIONS));
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
      m.scales.push(scales);
    }
    m.rows.reserve(m.rowAt(size));
    const rows = m.rows.bytes();
    rows.set(new Int8Array(bytes.buffer, bytes.byteOffset + size * 4, size * FACE_DIMENSIONS), SCRATCH);
    m.length = size;
    // The sign codes are not saved: they follow from the i8 rows.
    m.codes.reserve(size);
    for (let key = 0; key < size; key++) m.codes.set(key, rows, m.rowAt(key));
    return m;
  }
}
