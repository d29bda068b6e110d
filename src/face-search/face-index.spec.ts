import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { FaceIndex, FaceIndexParams } from './face-index';
import { seededUniform } from '../../test/helpers/seeded-uniform';
import { FACE_DIMENSIONS, normalised } from './face-vector';

const params: FaceIndexParams = { quantization: 'i8', connectivity: 16, expansionAdd: 64, expansionSearch: 64 };
let seed = 7;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
const randomUnit = () => normalised(Array.from({ length: FACE_DIMENSIONS }, rnd))!;
const facts = (i: number) => ({
  occurredAt: 1000 + i,
  boxId: `box-${i % 2}`,
  mediaDeviceId: `dev-${i % 3}`,
  userType: 'employee',
  identityId: `id-${i}`,
});

interface SnapshotFiles {
  meta: string;
  index: string;
  vectors: string;
}

function snapshotFiles(dir: string): SnapshotFiles {
  const names = fs.readdirSync(dir);
  return {
    meta: path.join(dir, 'face-index.json'),
    index: path.join(
      dir,
      names.find((n) => n.endsWith('.usearch'))!,
    ),
    vectors: path.join(
      dir,
      names.find((n) => n.endsWith('.vectors'))!,
    ),
  };
}

/** Inverts a few bytes in the middle of a file (or at `at`), keeping its size. */
function flip(file: string, at?: number): void {
  const bytes = fs.readFileSync(file);
  const from = at ?? Math.floor(bytes.length / 2);
  for (let i = from; i < Math.min(bytes.length, from + 16); i++) bytes[i] ^= 0xff;
  fs.writeFileSync(file, bytes);
}

describe('FaceIndex', () => {
  const vectors = Array.from({ length: 50 }, randomUnit);
  const build = () => {
    const index = new FaceIndex(params);
    index.add(vectors.map((vector, i) => ({ recordId: `r${i}`, vector, facts: facts(i) })));
    return index;
  };

  it('takes a batch after a single add grew the index (usearch per-thread slots), and every vector is in its graph', () => {
    // Whether usearch's threads collide on its one reserved slot is a race, so the sequence runs a number of times.
    for (let round = 0; round < 200; round++) {
      const index = new FaceIndex(params);
      expect(index.add([{ recordId: 'r0', vector: vectors[0], facts: facts(0) }])).toBe(1);
      // 20: more than one thread's worth, and within the capacity the single add reserved.
      const batch = vectors.slice(1, 21).map((vector, i) => ({ recordId: `r${i + 1}`, vector, facts: facts(i + 1) }));
      expect(index.add(batch)).toBe(20);
      expect(index.size).toBe(21);
      // Every key in usearch's graph, not only in the exact scan's i8 copy (a refused batch used to be missing there).
      const graph = (index as unknown as { index: { size(): number; contains(key: bigint): boolean } }).index;
      expect(graph.size()).toBe(21);
      for (let key = 0n; key < 21n; key++) expect(graph.contains(key)).toBe(true);
    }
  });

  it('never hands usearch a saved graph with removed keys (its loader then corrupts the heap on the next adds)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'face-index-removed-'));
    try {
      const many = Array.from({ length: 2000 }, randomUnit);
      const index = new FaceIndex(params);
      index.add(many.map((vector, i) => ({ recordId: `m${i}`, vector, facts: facts(i) })));
      for (let i = 0; i < 1950; i++) index.remove(`m${i}`);
      index.save(dir, 1);
      const loaded = FaceIndex.load(dir, params)!.index;
      expect(loaded.graphState).toBe('behind'); // rebuilt from the i8 copy, not loaded
      loaded.add(Array.from({ length: 1500 }, (_, i) => ({ recordId: `n${i}`, vector: randomUnit(), facts: facts(i) })));
      while (loaded.extendGraph(500) > 0);
      expect(loaded.graphState).toBe('ready');
      expect(loaded.size).toBe(1550);
      expect(loaded.candidates(many[1999], 1, {}, 0).ids[0]).toBe('m1999');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('finds a vector first, skips records added twice, and forgets removed ones', () => {
    const index = build();
    expect(index.add([{ recordId: 'r3', vector: vectors[3], facts: facts(3) }])).toBe(0);
    expect(index.size).toBe(50);
    expect(index.candidates(vectors[7], 5, {}, 0).ids[0]).toBe('r7');
    expect(index.remove('r7')).toBe(true);
    expect(index.size).toBe(49);
    expect(index.candidates(vectors[7], 50, {}, 0).ids).not.toContain('r7');
  });

  it('scans every vector exactly when the whole index is below the threshold, skipping removed records', () => {
    const index = build();
    const scan = index.candidates(vectors[12], 50, {}, 1000);
    expect(scan.considered).toBe(50);
    expect(scan.ids).toHaveLength(50);
    expect(scan.ids[0]).toBe('r12');
    index.remove('r12');
    const after = index.candidates(vectors[12], 50, {}, 1000);
    expect(after).toEqual({ ids: scan.ids.filter((id) => id !== 'r12'), considered: 49 });
  });

  it('scores a shortlist by sign code when a scan admits more vectors than the shortlist', () => {
    const index = build();
    const short = index.candidates(vectors[21], 5, {}, 1000, 0, 10);
    expect(short.considered).toBe(50);
    expect(short.ids).toHaveLength(5);
    expect(short.ids[0]).toBe('r21');
    const boxed = index.candidates(vectors[21], 3, { boxId: 'box-1' }, 1000, 0, 8);
    expect(boxed.considered).toBe(25);
    expect(boxed.ids[0]).toBe('r21');
    for (const id of boxed.ids) expect(Number(id.slice(1)) % 2).toBe(1);
  });

  it('filters by the facts kept beside the index, exactly below the threshold and through the graph above it', () => {
    const index = build();
    const few = index.candidates(vectors[4], 10, { boxId: 'box-0', mediaDeviceId: 'dev-1' }, 100);
    expect(few.considered).toBe(few.ids.length);
    for (const id of few.ids) expect(Number(id.slice(1)) % 6).toBe(4);
    const many = index.candidates(vectors[4], 5, { boxId: 'box-0' }, 0);
    expect(many.considered).toBe(25);
    expect(many.ids[0]).toBe('r4');
    for (const id of many.ids) expect(Number(id.slice(1)) % 2).toBe(0);
    expect(index.candidates(vectors[4], 5, { boxId: 'no-such-box' }, 0)).toEqual({ ids: [], considered: 0 });
    expect(index.candidates(vectors[4], 50, { from: 1010, to: 1020 }, 100).ids.sort()).toHaveLength(10);
    index.renameIdentity('id-4', 'id-9');
    expect(index.candidates(vectors[4], 5, { identityIds: ['id-9'] }, 100).ids.sort()).toEqual(['r4', 'r9']);
  });

  it('saves and loads a snapshot, and refuses one made with other settings', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'face-index-'));
    try {
      const index = build();
      index.remove('r1');
      index.save(dir, 42);
      const loaded = FaceIndex.load(dir, params);
      expect(loaded?.cursor).toBe(42);
      expect(loaded?.index.size).toBe(49);
      expect(loaded?.index.has('r1')).toBe(false);
      expect(loaded?.index.candidates(vectors[9], 3, {}, 0).ids[0]).toBe('r9');
      expect(FaceIndex.load(dir, { ...params, quantization: 'f16' })).toBeNull();
      expect(FaceIndex.load(dir, { ...params, expansionAdd: 32 })).toBeNull();
      // The search-time ef does not shape the saved graph.
      expect(FaceIndex.load(dir, { ...params, expansionSearch: 512 })?.index.size).toBe(49);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  /** Every byte form a snapshot may hold of a unit vector: float32, usearch's f16 and i8 casts, the i8 copy's rows. */
  const storedForms = (v: Float32Array): Buffer[] => {
    let max = 0;
    for (const x of v) max = Math.max(max, Math.abs(x));
    const f16 = Buffer.alloc(v.length * 2);
    v.forEach((x, i) => f16.writeUInt16LE(float16Bits(x), i * 2));
    // The graph built lazily takes the vector back from the i8 copy: its casts of that too.
    const back = Float32Array.from(v, (x) => Math.round((x * 127) / max) * Math.fround(max / 127));
    return [
      Buffer.from(v.buffer, v.byteOffset, v.byteLength),
      f16,
      Buffer.from(Int8Array.from(v, (x) => Math.trunc(x * 127)).buffer),
      Buffer.from(Int8Array.from(v, (x) => Math.round((x * 127) / max)).buffer),
      Buffer.from(back.buffer),
      Buffer.from(Int8Array.from(back, (x) => Math.trunc(x * 127)).buffer),
      Buffer.from(Int8Array.from(back, (x) => Math.round(x * 127)).buffer),
    ].map((b) => b.subarray(64, 128)); // a distinctive slice
  };
  const holds = (dir: string, v: Float32Array, ext = '') =>
    fs.readdirSync(dir).some((name) => {
      if (!name.endsWith(ext)) return false;
      const bytes = fs.readFileSync(path.join(dir, name));
      return storedForms(v).some((form) => bytes.includes(form));
    });

  it.each(['i8', 'f16', 'f32'] as const)('never writes a removed vector into a snapshot, and a purge drops the previous one (%s)', (q) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'face-index-'));
    try {
      const p = { ...params, quantization: q };
      const index = new FaceIndex(p);
      index.add(vectors.map((vector, i) => ({ recordId: `r${i}`, vector, facts: facts(i) })));
      index.save(dir, 1);
      // The test can see the stored form (it would pass vacuously otherwise).
      expect(holds(dir, vectors[5])).toBe(true);
      index.remove('r5');
      index.remove('r6');
      index.save(dir, 2);
      // The new snapshot has none of them; the previous one (kept by an ordinary save) still has.
      expect(fs.readdirSync(dir).filter((n) => n.endsWith('.usearch'))).toHaveLength(2);
      expect(holds(dir, vectors[5])).toBe(true);
      index.save(dir, 3, { purge: true });
      expect(fs.readdirSync(dir).filter((n) => n.endsWith('.usearch'))).toHaveLength(1);
      expect(holds(dir, vectors[5])).toBe(false);
      expect(holds(dir, vectors[6])).toBe(false);
      expect(holds(dir, vectors[7])).toBe(true);
      // Still searchable, through the graph too, after the reload; new records reuse the freed slots.
      expect(index.candidates(vectors[9], 3, {}, 0).ids[0]).toBe('r9');
      index.add([{ recordId: 'r-new', vector: vectors[5], facts: facts(5) }]);
      expect(index.candidates(vectors[5], 1, {}, 0).ids).toEqual(['r-new']);
      const loaded = FaceIndex.load(dir, p)!;
      expect(loaded.index.size).toBe(48);
      expect(loaded.index.candidates(vectors[7], 1, {}, 0).ids).toEqual(['r7']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['the index file truncated', (f: SnapshotFiles) => fs.truncateSync(f.index, 10)],
    ['the index file cut in half', (f: SnapshotFiles) => fs.truncateSync(f.index, Math.floor(fs.statSync(f.index).size / 2))],
    ['bytes of the index file flipped', (f: SnapshotFiles) => flip(f.index)],
    ['the vectors file truncated', (f: SnapshotFiles) => fs.truncateSync(f.vectors, 100)],
    ['bytes of the vectors file flipped', (f: SnapshotFiles) => flip(f.vectors)],
    ['the key table truncated', (f: SnapshotFiles) => fs.truncateSync(f.meta, Math.floor(fs.statSync(f.meta).size / 2))],
    ['a byte of the key table changed', (f: SnapshotFiles) => flip(f.meta, 40)],
    ['the index file missing', (f: SnapshotFiles) => fs.rmSync(f.index)],
  ])('refuses a snapshot with %s (never hands it to usearch, whose loader may crash the process)', (_, damage) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'face-index-'));
    try {
      build().save(dir, 7);
      expect(FaceIndex.load(dir, params)?.index.size).toBe(50);
      damage(snapshotFiles(dir));
      expect(() => FaceIndex.load(dir, params)).toThrow(/face-index/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps its current and previous snapshot files only, not one pair per save', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'face-index-'));
    try {
      const index = build();
      for (let cursor = 1; cursor <= 4; cursor++) index.save(dir, cursor);
      const names = fs.readdirSync(dir);
      expect(names.filter((n) => n.endsWith('.usearch'))).toHaveLength(2);
      expect(names.filter((n) => n.endsWith('.vectors'))).toHaveLength(2);
      expect(FaceIndex.load(dir, params)?.cursor).toBe(4);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('removes what it wrote when a write fails, and the previous snapshot stays usable', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'face-index-'));
    try {
      build().save(dir, 7);
      const before = fs.readdirSync(dir).sort();
      const bigger = build();
      bigger.add([{ recordId: 'extra', vector: randomUnit(), facts: facts(99) }]);
      // The table cannot be renamed over a directory: the write fails after both data files were written.
      const meta = path.join(dir, 'face-index.json');
      fs.renameSync(meta, `${meta}.kept`);
      fs.mkdirSync(meta);
      fs.writeFileSync(path.join(meta, 'x'), '');
      expect(() => bigger.save(dir, 8)).toThrow();
      fs.rmSync(meta, { recursive: true });
      fs.renameSync(`${meta}.kept`, meta);
      expect(fs.readdirSync(dir).sort()).toEqual(before);
      expect(FaceIndex.load(dir, params)).toMatchObject({ cursor: 7, index: expect.objectContaining({ size: 50 }) });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('walks the graph `breadth` wide but returns the nearest `want`, nearest first', () => {
    const index = build();
    const narrow = index.candidates(vectors[5], 3, {}, 0);
    const wide = index.candidates(vectors[5], 3, {}, 0, 40);
    expect(wide.ids).toHaveLength(3);
    expect(wide.ids[0]).toBe('r5');
    expect(narrow.ids[0]).toBe('r5');
    expect(wide.considered).toBe(50);
    // Filtered: at least `breadth` neighbours are looked at, so every admitted one can be found.
    const filtered = index.candidates(vectors[5], 30, { boxId: 'box-1' }, 0, 50);
    expect(filtered.ids.sort()).toEqual(
      vectors
        .map((_, i) => `r${i}`)
        .filter((_, i) => i % 2 === 1)
        .sort(),
    );
  });

  describe('without a graph until startGraph (built lazily, from the i8 copy)', () => {
    // Their own vectors: the shared generator repeats itself after about 10,000 numbers, so a removed vector's bytes
    // would be found again inside a later one.
    const uniform = seededUniform(99);
    const vs = Array.from({ length: 50 }, () => normalised(Array.from({ length: FACE_DIMENSIONS }, uniform))!);
    const graphOf = (index: FaceIndex) => (index as unknown as { index: { size(): number; contains(key: bigint): boolean } }).index;
    const index0 = () => {
      const index = new FaceIndex(params);
      index.add(vs.map((vector, i) => ({ recordId: `r${i}`, vector, facts: facts(i) })));
      return index;
    };
    const lazy = () => {
      const index = new FaceIndex(params, { graph: false });
      index.add(vs.slice(0, 30).map((vector, i) => ({ recordId: `r${i}`, vector, facts: facts(i) })));
      return index;
    };

    it('answers by scanning the i8 copy, even above the threshold, until the graph holds every key', () => {
      const index = lazy();
      expect(index.graphState).toBe('none');
      expect(graphOf(index).size()).toBe(0);
      // exactBelow 0 would walk the graph: there is none, so the scan answers.
      expect(index.candidates(vs[12], 3, {}, 0)).toEqual({ ids: expect.arrayContaining(['r12']), considered: 30 });
      expect(index.candidates(vs[12], 3, {}, 0).ids[0]).toBe('r12');
      index.startGraph();
      expect(index.graphState).toBe('behind');
      expect(index.extendGraph(10)).toBe(20);
      // Records removed and added while the graph is behind: a removed key leaves it or is never added to it.
      index.remove('r3'); // in the graph already
      index.remove('r25'); // not yet
      index.add(vs.slice(30).map((vector, i) => ({ recordId: `r${i + 30}`, vector, facts: facts(i + 30) })));
      expect(index.graphState).toBe('behind');
      expect(index.candidates(vs[40], 1, {}, 0).ids).toEqual(['r40']);
      while (index.extendGraph(7) > 0);
      expect(index.graphState).toBe('ready');
      expect(graphOf(index).size()).toBe(48);
      expect(graphOf(index).contains(3n) || graphOf(index).contains(25n)).toBe(false);
      // Adds go straight into the graph now.
      index.add([{ recordId: 'late', vector: randomUnit(), facts: facts(60) }]);
      expect(graphOf(index).size()).toBe(49);
      expect(index.graphState).toBe('ready');
      // Through the graph (exactBelow 0): every live vector is found first for itself.
      for (let i = 0; i < 50; i++) {
        if (i === 3 || i === 25) continue;
        expect(index.candidates(vs[i], 1, {}, 0, 16).ids).toEqual([`r${i}`]);
      }
      expect(index.candidates(vs[25], 50, {}, 0, 60).ids).not.toContain('r25');
    });

    it('saves an empty graph and a half-built one, without removed vectors, and loads them as they were', () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'face-index-'));
      try {
        const index = lazy();
        index.remove('r5');
        index.save(dir, 1, { purge: true });
        expect(holds(dir, vs[6])).toBe(true);
        expect(holds(dir, vs[5])).toBe(false);
        const none = FaceIndex.load(dir, params)!.index;
        expect(none.graphState).toBe('none');
        expect(none.size).toBe(29);
        expect(none.candidates(vs[9], 1, {}, 0).ids).toEqual(['r9']);
        index.startGraph();
        index.extendGraph(20);
        index.remove('r8'); // in the graph: usearch keeps its bytes in a free slot, scrubbed from the file
        index.remove('r22'); // not in it
        index.save(dir, 2, { purge: true });
        expect(holds(dir, vs[8])).toBe(false);
        expect(holds(dir, vs[22])).toBe(false);
        // In the graph's file too (the test can see it there), where r8 is not.
        expect(holds(dir, vs[9], '.usearch')).toBe(true);
        expect(holds(dir, vs[8], '.usearch')).toBe(false);
        const half = FaceIndex.load(dir, params)!.index;
        expect(half.graphState).toBe('behind');
        // Its graph file holds a removed key (r8), which usearch's loader mishandles: not loaded, built again.
        expect(half.graphBehind).toBe(30);
        expect(graphOf(half).size()).toBe(0);
        expect(half.extendGraph(100)).toBe(0);
        expect(graphOf(half).size()).toBe(27); // every live one
        expect(half.candidates(vs[27], 1, {}, 0, 16).ids).toEqual(['r27']);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it('loads a snapshot written before the lazy graph (no graphed count) as holding every key', () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'face-index-'));
      try {
        index0().save(dir, 3);
        const file = path.join(dir, 'face-index.json');
        const text = fs.readFileSync(file, 'utf8');
        const meta = JSON.parse(text.slice(text.indexOf('\n') + 1)) as Record<string, unknown>;
        delete meta.graphed;
        delete meta.graph;
        const body = JSON.stringify(meta);
        fs.writeFileSync(file, `${zlib.crc32(body)}\n${body}`);
        const old = FaceIndex.load(dir, params)!.index;
        expect(old.graphState).toBe('ready');
        expect(old.candidates(vs[33], 1, {}, 0, 16).ids).toEqual(['r33']);
        // A table that claims more graphed keys than it has is refused.
        fs.writeFileSync(file, ((b) => `${zlib.crc32(b)}\n${b}`)(JSON.stringify({ ...meta, graphed: 51 })));
        expect(() => FaceIndex.load(dir, params)).toThrow(/inconsistent/);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  it('combines every filter condition, and skips removed records', () => {
    const index = build();
    index.remove('r10');
    const all = (f: Parameters<FaceIndex['candidates']>[2]) =>
      index
        .candidates(vectors[0], 50, f, 1000)
        .ids.map((id) => Number(id.slice(1)))
        .sort((a, b) => a - b);
    const expected = (p: (i: number) => boolean) => vectors.map((_, i) => i).filter((i) => i !== 10 && p(i));
    expect(all({ from: 1004, to: 1030, boxId: 'box-0', mediaDeviceId: 'dev-1' })).toEqual(expected((i) => i >= 4 && i < 30 && i % 6 === 4));
    expect(all({ userType: 'employee', identityIds: ['id-10', 'id-11', 'nobody'] })).toEqual([11]);
    expect(all({ to: 1000 })).toEqual([]);
    expect(all({ userType: 'visitor' })).toEqual([]);
    expect(index.candidates(vectors[0], 5, { identityIds: ['nobody'] }, 1000)).toEqual({ ids: [], considered: 0 });
  });
});

/** IEEE half precision bits of `x`, rounded to nearest even (as usearch converts). */
function float16Bits(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = ((u >>> 23) & 0xff) - 127 + 15;
  let mant = u & 0x7fffff;
  if (exp <= 0) {
    if (exp < -10) return sign;
    mant = (mant | 0x800000) >>> (1 - exp);
    return sign | ((mant + 0xfff + ((mant >>> 13) & 1)) >>> 13);
  }
  return sign | ((exp << 10) + ((mant + 0xfff + ((mant >>> 13) & 1)) >>> 13));
}
