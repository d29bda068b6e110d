import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Index } from 'usearch';
import { FACE_DIMENSIONS, normalised } from './face-vector';
import { scrubRemovedVectors } from './usearch-file';

let seed = 5;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
const vectors = Array.from({ length: 60 }, () => normalised(Array.from({ length: FACE_DIMENSIONS }, rnd))!);
const i8 = (v: Float32Array) => Buffer.from(Int8Array.from(v, (x) => Math.trunc(x * 127)).buffer);

describe('scrubRemovedVectors', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'usearch-file-'));
    file = path.join(dir, 'index.usearch');
    const index = new Index({ dimensions: FACE_DIMENSIONS, metric: 'cos', quantization: 'i8', connectivity: 16, multi: false } as never);
    vectors.forEach((v, k) => index.add(BigInt(k), v));
    for (const k of [3, 17, 59]) index.remove(BigInt(k));
    index.save(file);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('zeroes exactly the rows of removed keys; the file still loads and finds the others', () => {
    const before = fs.readFileSync(file);
    expect(before.includes(i8(vectors[17]))).toBe(true);
    expect(scrubRemovedVectors(file)).toBe(3);
    const after = fs.readFileSync(file);
    expect(after.length).toBe(before.length);
    for (const k of [3, 17, 59]) expect(after.includes(i8(vectors[k]))).toBe(false);
    for (const k of [0, 4, 58]) expect(after.includes(i8(vectors[k]))).toBe(true);
    // Only vector bytes changed: 3 rows of 512.
    let changed = 0;
    for (let i = 0; i < before.length; i++) if (before[i] !== after[i]) changed++;
    expect(changed).toBeLessThanOrEqual(3 * FACE_DIMENSIONS);
    const loaded = new Index({ dimensions: FACE_DIMENSIONS, metric: 'cos', quantization: 'i8', connectivity: 16, multi: false } as never);
    loaded.load(file);
    expect(loaded.size()).toBe(57);
    expect(Number(loaded.search(vectors[4], 1, 1).keys[0])).toBe(4);
    expect(scrubRemovedVectors(file)).toBe(3);
  });

  it('refuses a layout it does not know instead of zeroing the wrong bytes', () => {
    const bytes = fs.readFileSync(file);
    const head = 8 + bytes.readUInt32LE(0) * bytes.readUInt32LE(4);
    bytes.writeBigUInt64LE(2n, head + 25); // count_deleted no longer matches the keys marked free
    fs.writeFileSync(file, bytes);
    expect(() => scrubRemovedVectors(file)).toThrow(/unknown layout/);
    fs.writeFileSync(file, Buffer.alloc(4096, 1));
    expect(() => scrubRemovedVectors(file)).toThrow(/unknown layout/);
  });
});
