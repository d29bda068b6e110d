import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import * as zlib from 'node:zlib';
import { Index } from 'usearch';
import { FACE_DIMENSIONS } from './face-vector';
import { removedKeysIn, scrubRemovedVectors } from './usearch-file';
import { VectorMatrix } from './vector-matrix';

export type Quantization = 'f32' | 'f16' | 'i8';

export interface FaceIndexParams {
  quantization: Quantization;
  /** HNSW M: graph edges per node. */
  connectivity: number;
  expansionAdd: number;
  expansionSearch: number;
}

/** What filters look at, per indexed record (kept beside the index so filtering needs no database round trip). */
export interface IndexedFacts {
  occurredAt: number;
  boxId: string;
  mediaDeviceId: string;
  userType: string | null;
  identityId: string | null;
}

export interface IndexFilter {
  from?: number;
  to?: number;
  boxId?: string;
  mediaDeviceId?: string;
  userType?: string;
  /** Any of these identities. */
  identityIds?: string[];
}

/** Strings stored once and referred to by number (a million records share a few hundred boxes and devices). */
class Interned {
  readonly values: string[] = [''];
  private readonly index = new Map<string, number>([['', 0]]);

  of(value: string | null): number {
    if (value === null) return 0;
    let i = this.index.get(value);
    if (i === undefined) {
      i = this.values.length;
      this.values.push(value);
      this.index.set(value, i);
    }
    return i;
  }

  find(value: string): number | undefined {
    return this.index.get(value);
  }

  static from(values: string[]): Interned {
    const t = new Interned();
    for (const v of values.slice(1)) t.of(v);
    return t;
  }
}

interface SnapshotMeta {
  version: 3;
  params: FaceIndexParams;
  indexFile: string;
  /** The VectorMatrix of the keys, in its own file. */
  vectorsFile: string;
  /** Size and CRC-32 of each file, checked before it is loaded. */
  files: { index: FileCheck; vectors: FileCheck };
  cursor: number;
  /**
   * Keys below this were offered to the graph (the live ones are in the index file); absent in snapshots written
   * before the graph was built lazily: all of them. 0 with graph false: no graph (an empty index file).
   */
  graphed?: number;
  graph?: boolean;
  ids: string[];
  occurredAt: number[];
  box: number[];
  device: number[];
  userType: number[];
  identity: number[];
  strings: { box: string[]; device: string[]; userType: string[]; identity: string[] };
}

const META_FILE = 'face-index.json';

/**
 * An HNSW index (usearch, cosine) over unit 512-d vectors, keyed by a dense number per record, with the record id
 * and filter facts of each key in plain arrays. Keys of removed records stay as holes ('' id).
 *
 * The graph is optional and may lag behind: an index made with `graph: false` keeps only the i8 copy (searches scan
 * it) until startGraph(); then extendGraph() adds the keys not yet in the graph from the i8 copy, a slice at a time,
 * and adds go straight to the graph once it has caught up. Searches walk the graph only when it holds every key.
 */
export class FaceIndex {
  private index: Index;
  private ids: string[] = [];
  private readonly keyOf = new Map<string, number>();
  private occurredAt: number[] = [];
  private box: number[] = [];
  private device: number[] = [];
  private userType: number[] = [];
  private identity: number[] = [];
  private boxes = new Interned();
  private devices = new Interned();
  private userTypes = new Interned();
  private identities = new Interned();
  private matrix = new VectorMatrix();
  private live = 0;
  /** Snapshot files this index wrote (or was loaded from), oldest first: `face-index-<uuid>`. */
  private stems: string[] = [];
  /** Reused by candidates(): the keys a filter admits. */
  private admitted?: Int32Array;
  /** Whether the graph is kept (startGraph), and how many keys (from 0) were offered to it so far. */
  private graphOn: boolean;
  private graphed = 0;
  /** Keys removed from the graph since it was built: usearch keeps their vectors' bytes in its free slots. */
  private removedInGraph = 0;

  constructor(
    readonly params: FaceIndexParams,
    opts: { graph?: boolean } = {},
  ) {
    this.index = FaceIndex.emptyIndex(params);
    this.graphOn = opts.graph ?? true;
  }

  private static emptyIndex(p: FaceIndexParams): Index {
    return new Index({
      dimensions: FACE_DIMENSIONS,
      metric: 'cos',
      quantization: p.quantization,
      connectivity: p.connectivity,
      expansion_add: p.expansionAdd,
      expansion_search: p.expansionSearch,
      multi: false,
    } as ConstructorParameters<typeof Index>[0]);
  }

  get size(): number {
    return this.live;
  }

  /** 'none' (not kept), 'behind' (startGraph called, extendGraph has keys to add) or 'ready' (holds every key). */
  get graphState(): 'none' | 'behind' | 'ready' {
    if (!this.graphOn) return 'none';
    return this.graphed === this.ids.length ? 'ready' : 'behind';
  }

  /** How many keys the graph has yet to take (holes included). */
  get graphBehind(): number {
    return this.graphOn ? this.ids.length - this.graphed : 0;
  }

  /** From now on the graph is kept: extendGraph() catches it up with the keys added before. */
  startGraph(): void {
    this.graphOn = true;
  }

  /**
   * Adds up to `count` keys after those already offered to the graph (holes skipped), their vectors taken from the
   * i8 copy (the graph only proposes candidates, which are re-ranked exactly). Blocks for one usearch add; how many
   * keys the graph has yet to take after it.
   */
  extendGraph(count: number): number {
    if (!this.graphOn) return 0;
    const end = Math.min(this.ids.length, this.graphed + count);
    const keys: bigint[] = [];
    for (let k = this.graphed; k < end; k++) if (this.ids[k]) keys.push(BigInt(k));
    if (keys.length > 0) {
      const matrix = new Float32Array(keys.length * FACE_DIMENSIONS);
      keys.forEach((key, i) => this.matrix.vector(Number(key), matrix.subarray(i * FACE_DIMENSIONS, (i + 1) * FACE_DIMENSIONS)));
      this.addToGraph(BigUint64Array.from(keys), matrix);
    }
    this.graphed = end;
    return this.ids.length - end;
  }

  /** An empty graph, to be built again from the i8 copy by extendGraph (if the graph is kept). */
  private dropGraph(): void {
    this.index = FaceIndex.emptyIndex(this.params);
    this.graphed = 0;
    this.removedInGraph = 0;
  }

  /** One usearch add; on failure nothing of it stays in the graph. */
  private addToGraph(keys: BigUint64Array, matrix: Float32Array): void {
    // Always usearch's default thread count: it reserves per-thread slots only when it grows, so a single-threaded
    // add that grew the index left one slot and a later multi-threaded add failed ("Reserve capacity ahead of
    // insertions!"). One vector on all threads costs no measurable extra (0.10 ms either way).
    try {
      this.index.add(keys, matrix, 0);
    } catch (err) {
      for (const key of keys) if (this.index.contains(key)) this.index.remove(key);
      throw err;
    }
  }

  has(recordId: string): boolean {
    return this.keyOf.has(recordId);
  }

  recordIdOf(key: number): string | undefined {
    return this.ids[key] || undefined;
  }

  /**
   * Adds unit vectors (already validated); records already indexed are skipped. With the graph caught up, they go
   * into it too, and nothing is recorded unless usearch took the whole batch, so a failed add is retried whole by the
   * caller; otherwise only the i8 copy and the facts (extendGraph adds them to the graph later).
   */
  add(entries: { recordId: string; vector: Float32Array; facts: IndexedFacts }[]): number {
    const fresh = entries.filter((e) => !this.keyOf.has(e.recordId));
    if (fresh.length === 0) return 0;
    const first = this.ids.length;
    if (this.graphOn && this.graphed === first) {
      const keys = new BigUint64Array(fresh.length);
      const matrix = new Float32Array(fresh.length * FACE_DIMENSIONS);
      fresh.forEach((e, i) => {
        keys[i] = BigInt(first + i);
        matrix.set(e.vector, i * FACE_DIMENSIONS);
      });
      this.addToGraph(keys, matrix);
      this.graphed = first + fresh.length;
    }
    fresh.forEach((e, i) => {
      const key = first + i;
      this.ids.push(e.recordId);
      this.keyOf.set(e.recordId, key);
      this.occurredAt.push(e.facts.occurredAt);
      this.box.push(this.boxes.of(e.facts.boxId));
      this.device.push(this.devices.of(e.facts.mediaDeviceId));
      this.userType.push(this.userTypes.of(e.facts.userType));
      this.identity.push(this.identities.of(e.facts.identityId));
      this.matrix.set(key, e.vector);
    });
    this.live += fresh.length;
    return fresh.length;
  }

  remove(recordId: string): boolean {
    const key = this.keyOf.get(recordId);
    if (key === undefined) return false;
    // A key the graph has not taken yet is skipped by extendGraph (its id is cleared below).
    if (key < this.graphed) {
      this.index.remove(BigInt(key));
      this.removedInGraph++;
    }
    this.matrix.clear(key);
    this.keyOf.delete(recordId);
    this.ids[key] = '';
    this.live--;
    return true;
  }

  /** An identity merged into another: its records now belong to the target. */
  renameIdentity(fromId: string, toId: string): void {
    const from = this.identities.find(fromId);
    if (from === undefined) return;
    const to = this.identities.of(toId);
    for (let k = 0; k < this.identity.length; k++) if (this.identity[k] === from) this.identity[k] = to;
  }

  /**
   * A predicate over live keys for this filter, or null for "no filter"; 'none' when nothing can match. One
   * monomorphic function over the fact arrays (no closure per condition): counting a million keys stays a few ms.
   */
  private predicate(f: IndexFilter): ((key: number) => boolean) | null | 'none' {
    const box = f.boxId === undefined ? -1 : this.boxes.find(f.boxId);
    const device = f.mediaDeviceId === undefined ? -1 : this.devices.find(f.mediaDeviceId);
    const userType = f.userType === undefined ? -1 : this.userTypes.find(f.userType);
    if (box === undefined || device === undefined || userType === undefined) return 'none';
    let wanted: Set<number> | null = null;
    if (f.identityIds) {
      wanted = new Set(f.identityIds.map((id) => this.identities.find(id)).filter((i): i is number => i !== undefined));
      if (wanted.size === 0) return 'none';
    }
    const from = f.from ?? -Infinity;
    const to = f.to ?? Infinity;
    if (box < 0 && device < 0 && userType < 0 && !wanted && from === -Infinity && to === Infinity) return null;
    const { ids, occurredAt, box: boxes, device: devices, userType: userTypes, identity } = this;
    return (k) =>
      ids[k] !== '' &&
      occurredAt[k] >= from &&
      occurredAt[k] < to &&
      (box < 0 || boxes[k] === box) &&
      (device < 0 || devices[k] === device) &&
      (userType < 0 || userTypes[k] === userType) &&
      (wanted === null || wanted.has(identity[k]));
  }

  /**
   * Candidate record ids for a probe, nearest first by the (possibly quantised) vectors: up to `want` of them that
   * pass the filter. When the filter admits up to `exactBelow` vectors (the whole index without a filter), they are
   * scored from the in-memory i8 copy and the best `want` returned; when they are more than `shortlist` (0: never),
   * only the `shortlist` nearest by sign code (Hamming distance of 1-bit codes) are scored. Beyond `exactBelow`, the
   * graph is walked `breadth` wide (at least `want`, and proportionally more with a filter) and the nearest `want` of
   * its finds that pass are kept. `considered` is how many vectors the filter admits (the whole index without one).
   */
  candidates(
    probe: Float32Array,
    want: number,
    filter: IndexFilter,
    exactBelow: number,
    breadth = 0,
    shortlist = 0,
  ): { ids: string[]; considered: number } {
    if (this.live === 0) return { ids: [], considered: 0 };
    const test = this.predicate(filter);
    if (test === 'none') return { ids: [], considered: 0 };
    const ids = this.ids;
    let matching = this.live;
    let admitted: Int32Array | null = null; // null: every key
    if (test !== null || this.live < ids.length) {
      const pass = test ?? ((k: number) => ids[k] !== '');
      this.admitted ??= new Int32Array(0);
      if (this.admitted.length < ids.length) this.admitted = new Int32Array(Math.max(ids.length, this.admitted.length * 2));
      matching = 0;
      for (let k = 0; k < ids.length; k++) if (pass(k)) this.admitted[matching++] = k;
      admitted = this.admitted.subarray(0, matching);
    }
    // Until the graph holds every key, the scan answers (slower beyond exactBelow, but complete).
    if (matching <= exactBelow || this.graphState !== 'ready') {
      const keys = this.matrix.nearest(probe, want, admitted, shortlist);
      return { ids: keys.map((k) => ids[k]), considered: matching };
    }
    if (test === null) {
      return { ids: this.search(probe, Math.min(Math.max(want, breadth), this.live), () => true).slice(0, want), considered: this.live };
    }
    const k = Math.min(this.live, Math.max(breadth, Math.ceil(((want * this.live) / matching) * 1.5)), 50_000);
    return { ids: this.search(probe, k, test).slice(0, want), considered: matching };
  }

  private search(probe: Float32Array, k: number, test: (key: number) => boolean): string[] {
    const found = this.index.search(probe, k, 1);
    const out: string[] = [];
    for (const key of found.keys) {
      const n = Number(key);
      if (this.ids[n] && test(n)) out.push(this.ids[n]);
    }
    return out;
  }

  /** The next `count` record ids after key `from` (wrapping), for reconciliation sweeps. */
  sweepSlice(from: number, count: number): { ids: string[]; next: number } {
    const out: string[] = [];
    let k = from >= this.ids.length ? 0 : from;
    let seen = 0;
    while (out.length < count && seen < this.ids.length) {
      if (this.ids[k]) out.push(this.ids[k]);
      k = (k + 1) % this.ids.length;
      seen++;
    }
    return { ids: out, next: k };
  }

  /**
   * Writes the index and its key table to `dir`: a new index file and vectors file, then the table naming them with
   * their sizes and CRC-32s, each flushed to disk (fsync) before the table is renamed into place, so a reader never
   * sees a half-written snapshot, even after a power cut; several instances may share the directory. A write that
   * fails (a full disk) removes what it wrote, so the previous snapshot stays usable and the space is given back.
   * The vectors of removed records are never written: usearch keeps a removed vector's bytes in its slot, so they
   * are zeroed in the file before it is flushed (scrubRemovedVectors), and the i8 copy's row was zeroed on removal.
   * Removes older index files. `purge` (records were erased or deleted): also the previous snapshot, which still
   * holds their vectors, and the graph is dropped to be rebuilt from the i8 copy (also when the write failed).
   */
  save(dir: string, cursor: number, opts: { purge?: boolean } = {}): void {
    fs.mkdirSync(dir, { recursive: true });
    const stem = `face-index-${randomUUID()}`;
    const indexFile = `${stem}.usearch`;
    const vectorsFile = `${stem}.vectors`;
    const tmp = path.join(dir, `.${META_FILE}.${process.pid}.${stem}.tmp`);
    const written = [path.join(dir, vectorsFile), path.join(dir, indexFile), tmp];
    let renamed = false;
    try {
      const vectors = writeDurably(written[0], this.matrix.toBuffers());
      try {
        this.index.save(written[1]);
      } catch (e) {
        // usearch says only "failed to serialize": name the likely cause.
        throw new Error(`index file not written (${(e as Error).message}; ${freeSpace(dir)})`);
      }
      scrubRemovedVectors(written[1]);
      const index = syncAndSum(written[1]);
      const meta: SnapshotMeta = {
        version: 3,
        params: this.params,
        indexFile,
        vectorsFile,
        files: { index, vectors },
        cursor,
        graphed: this.graphed,
        graph: this.graphOn,
        ids: this.ids,
        occurredAt: this.occurredAt,
        box: this.box,
        device: this.device,
        userType: this.userType,
        identity: this.identity,
        strings: { box: this.boxes.values, device: this.devices.values, userType: this.userTypes.values, identity: this.identities.values },
      };
      const body = JSON.stringify(meta);
      writeDurably(tmp, [Buffer.from(`${zlib.crc32(body)}\n${body}`)]);
      fs.renameSync(tmp, path.join(dir, META_FILE));
      renamed = true;
      syncDir(dir);
    } catch (e) {
      // Once renamed into place, the table names the new files: they stay (only the rename's durability is in doubt;
      // removing them would leave a table naming nothing, and the next start would rebuild from the database).
      if (!renamed) for (const f of written) fs.rmSync(f, { force: true });
      // The files wait for space, the memory does not: removed vectors leave usearch's free slots now, as after a
      // purge snapshot (below), not once the disk has room again.
      if (opts.purge && this.removedInGraph > 0) this.dropGraph();
      throw e;
    }
    // Files of our own older snapshots go, except the one the table named until now (a start elsewhere may be
    // loading it), so snapshots take at most twice their size on disk, not one copy per interval. Another
    // instance's files may be in the middle of being written: only files an hour old are surely unused. After an
    // erasure the previous one goes too: a start loading it meanwhile finds it damaged and rebuilds from the records.
    const older = opts.purge ? this.stems : this.stems.slice(0, -1);
    this.stems = [...(opts.purge ? [] : this.stems.slice(-1)), stem];
    const hourAgo = Date.now() - 3_600_000;
    for (const name of fs.readdirSync(dir)) {
      if (this.stems.some((kept) => name.startsWith(`${kept}.`))) continue;
      if (!(name.startsWith('face-index-') || (name.startsWith(`.${META_FILE}.`) && name.endsWith('.tmp')))) continue;
      const file = path.join(dir, name);
      try {
        if (older.some((own) => name.startsWith(`${own}.`)) || fs.statSync(file).mtimeMs < hourAgo) fs.rmSync(file, { force: true });
      } catch {
        // gone already
      }
    }
    // The removed vectors' bytes still sit in usearch's free slots in memory. The graph is dropped and rebuilt from
    // the i8 copy in the background (searches scan meanwhile): reloading the scrubbed file instead would hand usearch
    // a file with removed keys, which its loader mishandles (see removedKeysIn).
    if (opts.purge && this.graphed > 0) this.dropGraph();
  }

  /**
   * The index saved in `dir` with the cursor it was in step with; null when there is none or it was built with other
   * settings. Throws (naming what is wrong) for a damaged snapshot: a table or file that is truncated or fails its
   * checksum is never handed to usearch, whose loader may crash the process on such a file.
   */
  static load(dir: string, params: FaceIndexParams): { index: FaceIndex; cursor: number } | null {
    let text: string;
    try {
      text = fs.readFileSync(path.join(dir, META_FILE), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    const nl = text.indexOf('\n');
    const body = text.slice(nl + 1);
    if (nl < 0 || String(zlib.crc32(body)) !== text.slice(0, nl)) {
      // Snapshots written before checksums were added are plain JSON: rebuilt once, quietly.
      if (text.startsWith('{"version":2,')) return null;
      throw new Error(`${META_FILE} is damaged (checksum mismatch)`);
    }
    const meta = JSON.parse(body) as SnapshotMeta;
    // The search-time ef does not shape the saved graph: a snapshot made with another one is still usable.
    const built = (p: FaceIndexParams) => JSON.stringify([p.quantization, p.connectivity, p.expansionAdd]);
    if (meta.version !== 3 || built(meta.params) !== built(params)) return null;
    const file = path.join(dir, path.basename(meta.indexFile));
    const vectorsFile = path.join(dir, path.basename(meta.vectorsFile));
    checkFile(file, meta.files.index);
    const n = meta.ids.length;
    if ([meta.occurredAt, meta.box, meta.device, meta.userType, meta.identity].some((a) => a.length !== n)) {
      throw new Error(`${META_FILE} is inconsistent (key table lengths differ)`);
    }
    const matrix = VectorMatrix.fromBuffer(readChecked(vectorsFile, meta.files.vectors), n);
    if (!matrix) throw new Error(`${path.basename(vectorsFile)} does not hold ${n} vectors`);
    // Snapshots from before the lazy graph hold a graph of every key.
    const graphed = meta.graphed ?? n;
    if (!Number.isInteger(graphed) || graphed < 0 || graphed > n)
      throw new Error(`${META_FILE} is inconsistent (graphed ${graphed} of ${n} keys)`);
    const idx = new FaceIndex(params, { graph: meta.graph ?? true });
    idx.graphed = graphed;
    idx.matrix = matrix;
    // A graph file with removed keys is not loaded (usearch's loader mishandles them: see removedKeysIn); the graph
    // is built again from the i8 copy in the background.
    if (removedKeysIn(file) === 0) idx.index.load(file);
    else idx.graphed = 0;
    idx.ids = meta.ids;
    idx.occurredAt = meta.occurredAt;
    idx.box = meta.box;
    idx.device = meta.device;
    idx.userType = meta.userType;
    idx.identity = meta.identity;
    idx.boxes = Interned.from(meta.strings.box);
    idx.devices = Interned.from(meta.strings.device);
    idx.userTypes = Interned.from(meta.strings.userType);
    idx.identities = Interned.from(meta.strings.identity);
    meta.ids.forEach((id, key) => {
      if (id) idx.keyOf.set(id, key);
      // Snapshots written before removals zeroed the row still hold removed vectors: not carried on.
      else matrix.clear(key);
    });
    idx.live = idx.keyOf.size;
    idx.stems = [path.basename(meta.indexFile).replace(/\.usearch$/, '')];
    let inGraph = 0;
    for (let k = 0; k < idx.graphed; k++) if (meta.ids[k]) inGraph++;
    if (idx.index.size() !== inGraph) throw new Error(`${path.basename(file)} holds ${idx.index.size()} vectors, the table ${inGraph}`);
    return { index: idx, cursor: meta.cursor };
  }
}

interface FileCheck {
  size: number;
  crc32: number;
}

/** Reads in slices, so checking a large file never holds it all in memory. */
const SLICE = 8 << 20;

/** Runs `work` on the open file, and closes it whatever happens. */
function withFile<T>(file: string, flags: string, work: (fd: number) => T): T {
  const fd = fs.openSync(file, flags);
  try {
    return work(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Writes `buffers` to a new file and flushes it to disk; its size and CRC-32. */
function writeDurably(file: string, buffers: Buffer[]): FileCheck {
  return withFile(file, 'w', (fd) => {
    let crc = 0;
    let size = 0;
    for (const b of buffers) {
      fs.writeSync(fd, b);
      crc = zlib.crc32(b, crc);
      size += b.byteLength;
    }
    fs.fsyncSync(fd);
    return { size, crc32: crc };
  });
}

/** Flushes a file written by someone else (usearch) to disk; its size and CRC-32. */
function syncAndSum(file: string): FileCheck {
  return withFile(file, 'r+', (fd) => {
    fs.fsyncSync(fd);
    return sum(fd);
  });
}

function sum(fd: number): FileCheck {
  const buf = Buffer.allocUnsafe(SLICE);
  let crc = 0;
  let size = 0;
  for (;;) {
    const n = fs.readSync(fd, buf, 0, SLICE, size);
    if (n === 0) return { size, crc32: crc };
    crc = zlib.crc32(buf.subarray(0, n), crc);
    size += n;
  }
}

function checkFile(file: string, want: FileCheck): void {
  try {
    fs.accessSync(file, fs.constants.R_OK);
  } catch (e) {
    throw new Error(`${path.basename(file)} is missing (${(e as NodeJS.ErrnoException).code})`);
  }
  withFile(file, 'r', (fd) => {
    if (fs.fstatSync(fd).size !== want.size) throw new Error(`${path.basename(file)} is truncated or damaged (size)`);
    if (sum(fd).crc32 !== want.crc32) throw new Error(`${path.basename(file)} is damaged (checksum mismatch)`);
  });
}

/** A file loaded whole, checked against its size and CRC-32 as it is (one read, not a check and then a load). */
function readChecked(file: string, want: FileCheck): Buffer {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new Error(`${path.basename(file)} is missing (${(e as NodeJS.ErrnoException).code})`);
  }
  if (bytes.length !== want.size) throw new Error(`${path.basename(file)} is truncated or damaged (size)`);
  if (zlib.crc32(bytes) !== want.crc32) throw new Error(`${path.basename(file)} is damaged (checksum mismatch)`);
  return bytes;
}

/** The rename into `dir` survives a power cut only once the directory itself is flushed. */
function syncDir(dir: string): void {
  withFile(dir, 'r', (fd) => fs.fsyncSync(fd));
}

function freeSpace(dir: string): string {
  try {
    const s = fs.statfsSync(dir);
    return `${s.bavail * s.bsize} bytes free in ${dir}`;
  } catch {
    return `free space in ${dir} unknown`;
  }
}
