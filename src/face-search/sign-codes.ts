import { FACE_DIMENSIONS } from './face-vector';

/** Bytes of one code: a bit per dimension. */
export const CODE_BYTES = FACE_DIMENSIONS / 8;
const WORDS = CODE_BYTES / 8;
const PAGE = 65_536;
/** Weight levels of a probe's dimensions, and the weight of a component of mean size (see encodeQuery). */
const LEVELS = 3;
const SCALE = 1.5;

/** The WebAssembly API used here (the project's TypeScript libs do not declare it; Node has it built in). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
const wasm = (
  globalThis as unknown as {
    WebAssembly: {
      Module: new (bytes: Uint8Array) => object;
      Instance: new (module: object) => { exports: Record<string, unknown> };
      Memory: new (limits: { initial: number }) => WasmMemory;
    };
  }
).WebAssembly;

/**
 * Bytes that grow in place: a WebAssembly memory (its address space is reserved up front, so growing never copies
 * what it holds), up to 4 GiB. Pages are only backed by RAM once written.
 */
export class GrowableMemory {
  private view: Int8Array;

  constructor(
    initial: number,
    private readonly memory: WasmMemory = new wasm.Memory({ initial: Math.ceil(initial / PAGE) }),
  ) {
    this.view = new Int8Array(this.memory.buffer);
  }

  /** At least `bytes` long (grown by half at least). Views taken before are then stale: take them again. */
  reserve(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes <= have) return;
    const want = Math.max(bytes, Math.ceil(have * 1.5));
    this.memory.grow(Math.ceil((want - have) / PAGE));
    this.view = new Int8Array(this.memory.buffer);
  }

  /** The whole memory, from offset 0. */
  bytes(): Int8Array {
    if (this.view.buffer !== this.memory.buffer) this.view = new Int8Array(this.memory.buffer);
    return this.view;
  }
}

/**
 * 1-bit sign codes of the indexed vectors (bit i set when component i is positive: 64 bytes a vector), scanned to
 * shortlist a whole index cheaply before the i8 copy ranks the shortlist (the share of differing bits estimates the
 * angle between two vectors). The distance is a weighted Hamming distance: a differing bit counts 0 to `levels`
 * times, more where the probe's component is larger (see encodeQuery). At 300,000 synthetic vectors that found 0.96
 * of the exact top 10 in a shortlist of 3,000 where the plain Hamming distance found 0.85 (README, Performance).
 * usearch's exactSearch has no binary kernel in this version (its Hamming metric over an Int8Array answers NaN), so
 * the scan is a few lines of WebAssembly built below: 64-bit popcounts, about 5-8 ms per 1,000,000 codes.
 */
export class SignCodes {
  /** The module's memory: the codes from offset 0, then a search's scratch. */
  private readonly memory: GrowableMemory;
  private readonly scan: (codes: number, n: number, query: number, out: number) => void;
  private readonly scanKeys: (codes: number, keys: number, n: number, query: number, out: number) => void;
  /** Codes held (keys are dense: 0, 1, 2, …) and room for them, in codes. */
  private length = 0;
  private capacity = 0;

  /** Weights of a differing bit: 0 to `levels` (see encodeQuery); 1 level at scale 0 is the plain Hamming distance. */
  constructor(
    readonly levels = LEVELS,
    readonly scale = SCALE,
  ) {
    const e = new wasm.Instance(new wasm.Module(hammingModule(levels))).exports;
    this.memory = new GrowableMemory(0, e.memory as WasmMemory);
    this.scan = e.scan as SignCodes['scan'];
    this.scanKeys = e.scanKeys as SignCodes['scanKeys'];
  }

  get size(): number {
    return this.length;
  }

  /** The code of `key`, from its i8 row at `offset` in `rows`. */
  set(key: number, rows: Int8Array, offset: number): void {
    this.reserve(key + 1);
    const out = this.memory.bytes();
    const at = key * CODE_BYTES;
    // Branch-free (signs are random, so a branch per component mispredicts half the time): for an i8 x, -x has its
    // sign bit set exactly when x > 0.
    for (let b = 0; b < CODE_BYTES; b++) {
      let byte = 0;
      const from = offset + b * 8;
      for (let j = 0; j < 8; j++) byte |= (-rows[from + j] >>> 31) << j;
      out[at + b] = byte;
    }
    this.length = Math.max(this.length, key + 1);
  }

  /** Room for `n` codes (grown by half at least: the memory grows in place, without copying from JavaScript). */
  reserve(n: number): void {
    if (n <= this.capacity) return;
    this.capacity = Math.max(n, Math.ceil(this.capacity * 1.5), 1024);
    this.fit(0);
  }

  /** Grows the memory to hold the codes and `scratch` bytes after them; their offset. */
  private fit(scratch: number): number {
    const at = this.capacity * CODE_BYTES;
    this.memory.reserve(at + scratch);
    return at;
  }

  /**
   * The `n` of `keys` (ascending; null for every key) nearest to `probe` by the weighted Hamming distance, in
   * ascending key order. Ties at the cut are broken by the lower key.
   */
  nearest(probe: Float32Array, n: number, keys: Int32Array | null): Int32Array {
    const total = keys ? keys.length : this.length;
    if (n <= 0 || total === 0) return new Int32Array(0);
    if (n >= total) return keys ? Int32Array.from(keys) : Int32Array.from({ length: total }, (_, i) => i);
    // Scratch after the codes: the query and its masks, the keys (when given), then a distance per scanned code.
    const queryBytes = CODE_BYTES * (1 + this.levels);
    const keysBytes = keys ? total * 4 : 0;
    const at = this.fit(queryBytes + keysBytes + total * 2);
    const buffer = this.memory.bytes().buffer;
    this.encodeQuery(probe, new Uint8Array(buffer, at, queryBytes));
    const out = at + queryBytes + keysBytes;
    if (keys) {
      new Int32Array(buffer, at + queryBytes, total).set(keys);
      this.scanKeys(0, at + queryBytes, total, at, out);
    } else {
      this.scan(0, total, at, out);
    }
    const distances = new Uint16Array(buffer, out, total);
    // The cut: the smallest distance d with at least n codes at d or nearer (a histogram: distances are 0..512).
    const histogram = new Int32Array(FACE_DIMENSIONS * this.levels + 1);
    for (let i = 0; i < total; i++) histogram[distances[i]]++;
    let cut = 0;
    let below = 0; // codes nearer than `cut`
    while (below + histogram[cut] < n) below += histogram[cut++];
    let ties = n - below; // codes at the cut that still fit
    const picked = new Int32Array(n);
    let m = 0;
    for (let i = 0; i < total && m < n; i++) {
      const d = distances[i];
      if (d < cut || (d === cut && ties-- > 0)) picked[m++] = keys ? keys[i] : i;
    }
    return picked;
  }

  /**
   * The probe's sign bits, then a mask per level: dimension i is in the masks of levels 1..w(i), its weight
   * w(i) = min(levels, round(scale · |probe_i| / mean |probe|)), so a differing bit counts w(i) times. A bit where the
   * probe is near 0 says little about the angle (either sign is nearly as likely for a close vector), one where it is
   * large says more: weighing them so ranks closer to the dot product than the plain Hamming distance does.
   */
  private encodeQuery(probe: Float32Array, out: Uint8Array): void {
    let mean = 0;
    for (let i = 0; i < FACE_DIMENSIONS; i++) mean += Math.abs(probe[i]);
    mean /= FACE_DIMENSIONS;
    const unit = this.scale > 0 && mean > 0 ? this.scale / mean : 0;
    out.fill(0);
    for (let i = 0; i < FACE_DIMENSIONS; i++) {
      const byte = i >> 3;
      const bit = 1 << (i & 7);
      if (probe[i] > 0) out[byte] |= bit;
      const weight = unit > 0 ? Math.min(this.levels, Math.round(Math.abs(probe[i]) * unit)) : this.levels;
      for (let level = 1; level <= weight; level++) out[level * CODE_BYTES + byte] |= bit;
    }
  }
}

/**
 * The WebAssembly module, assembled here (it is small, and a build step for it would be larger):
 *
 *   scan(codes, n, query, out):           out[i] (u16) = distance(code at codes + 64 i), i < n
 *   scanKeys(codes, keys, n, query, out): out[i] (u16) = distance(code at codes + 64 keys[i]), i < n
 *
 * where distance(c) = Σ over levels l of popcount((c ^ q) & mask_l), the query q and its `levels` masks being 64
 * bytes each from `query`. Each keeps the query's and masks' 64-bit words in locals: per code, eight loads and
 * 8 × `levels` i64.popcnt. Exports its memory.
 */
function hammingModule(levels: number): Uint8Array {
  const I32 = 0x7f;
  const I64 = 0x7e;
  const op = {
    block: 0x02,
    loop: 0x03,
    br: 0x0c,
    brIf: 0x0d,
    end: 0x0b,
    localGet: 0x20,
    localSet: 0x21,
    i32Load: 0x28,
    i64Load: 0x29,
    i32Store16: 0x3b,
    i32Const: 0x41,
    i32GeU: 0x4f,
    i32Add: 0x6a,
    i32Shl: 0x74,
    i64Popcnt: 0x7b,
    i64Add: 0x7c,
    i64Xor: 0x85,
    i64And: 0x83,
    localTee: 0x22,
    i32WrapI64: 0xa7,
  };
  const uleb = (n: number): number[] => {
    const out: number[] = [];
    do {
      let byte = n & 0x7f;
      n >>>= 7;
      if (n !== 0) byte |= 0x80;
      out.push(byte);
    } while (n !== 0);
    return out;
  };
  const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
  const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
  const name = (s: string): number[] => [...uleb(s.length), ...Buffer.from(s, 'ascii')];

  /**
   * A function body: `params` i32 parameters, then locals i (i32), p (i32), the query's words q0..q7, its masks'
   * words m[level][word] and a scratch word x (i64).
   */
  const body = (params: number, rowAddress: (i: number) => number[], query: number, out: number, n: number): number[] => {
    const i = params;
    const p = params + 1;
    const q = params + 2;
    const m = q + WORDS;
    const x = m + WORDS * levels;
    const code: number[] = [];
    for (let w = 0; w < WORDS * (1 + levels); w++) code.push(op.localGet, query, op.i64Load, 3, ...uleb(w * 8), op.localSet, q + w);
    code.push(op.block, 0x40, op.loop, 0x40);
    code.push(op.localGet, i, op.localGet, n, op.i32GeU, op.brIf, 1);
    code.push(...rowAddress(i), op.localSet, p);
    code.push(op.localGet, out, op.localGet, i, op.i32Const, 1, op.i32Shl, op.i32Add);
    for (let w = 0; w < WORDS; w++) {
      code.push(op.localGet, q + w, op.localGet, p, op.i64Load, 3, ...uleb(w * 8), op.i64Xor, op.localSet, x);
      for (let level = 0; level < levels; level++) {
        code.push(op.localGet, x, op.localGet, m + level * WORDS + w, op.i64And, op.i64Popcnt);
        if (w > 0 || level > 0) code.push(op.i64Add);
      }
    }
    code.push(op.i32WrapI64, op.i32Store16, 1, 0);
    code.push(op.localGet, i, op.i32Const, 1, op.i32Add, op.localSet, i, op.br, 0, op.end, op.end, op.end);
    const locals = vec([
      [2, I32],
      [WORDS * (1 + levels) + 1, I64],
    ]);
    const fn = [...locals, ...code];
    return [...uleb(fn.length), ...fn];
  };
  // scan(codes=0, n=1, query=2, out=3): the row is codes + (i << 6).
  const scan = body(4, (i) => [op.localGet, 0, op.localGet, i, op.i32Const, 6, op.i32Shl, op.i32Add], 2, 3, 1);
  // scanKeys(codes=0, keys=1, n=2, query=3, out=4): the row is codes + (keys[i] << 6).
  const scanKeys = body(
    5,
    (i) => [
      op.localGet,
      0,
      op.localGet,
      1,
      op.localGet,
      i,
      op.i32Const,
      2,
      op.i32Shl,
      op.i32Add,
      op.i32Load,
      2,
      0,
      op.i32Const,
      6,
      op.i32Shl,
      op.i32Add,
    ],
    3,
    4,
    2,
  );
  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(
      1,
      vec([
        [0x60, ...vec([[I32], [I32], [I32], [I32]]), 0],
        [0x60, ...vec([[I32], [I32], [I32], [I32], [I32]]), 0],
      ]),
    ),
    ...section(3, vec([[0], [1]])),
    ...section(5, vec([[0x00, 1]])),
    ...section(
      7,
      vec([
        [...name('scan'), 0x00, 0],
        [...name('scanKeys'), 0x00, 1],
        [...name('memory'), 0x02, 0],
      ]),
    ),
    ...section(10, vec([scan, scanKeys])),
  ];
  return new Uint8Array(bytes);
}
