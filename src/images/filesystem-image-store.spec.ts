import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { itWithMount, mountSmallFilesystem } from '../../test/helpers/small-filesystem';
import { FilesystemImageStore, STALE_TEMP_AGE_MS } from './filesystem-image-store';

describe('FilesystemImageStore', () => {
  let root: string;
  let store: FilesystemImageStore;

  beforeEach(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'rh-images-'));
    store = new FilesystemImageStore(root);
    await store.init();
  });
  afterEach(async () => {
    await store.onApplicationShutdown();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('names files by the sha256 of their bytes and reads them back identical', async () => {
    const bytes = Buffer.from([0xff, 0xd8, 0xff, 0x00, 0x01, 0xff, 0xd9]);
    const put = await store.put(Buffer.from(bytes));
    expect(put).toMatchObject({ sha256: createHash('sha256').update(bytes).digest('hex'), byteSize: 7, created: true });
    expect(fs.existsSync(path.join(root, put.sha256.slice(0, 2), put.sha256.slice(2, 4), put.sha256))).toBe(true);
    expect((await store.read(put.sha256))!.equals(bytes)).toBe(true);
    expect(await store.exists(put.sha256)).toBe(true);
  });

  it('stores identical bytes once, also when written concurrently', async () => {
    const bytes = Buffer.alloc(100_000, 7);
    const puts = await Promise.all(Array.from({ length: 10 }, () => store.put(Buffer.from(bytes))));
    expect(new Set(puts.map((p) => p.sha256)).size).toBe(1);
    expect(puts.some((p) => p.created)).toBe(true);
    expect(fs.readdirSync(path.join(root, '.tmp'))).toEqual([]);
    expect((await store.read(puts[0].sha256))!.equals(bytes)).toBe(true);
  });

  it('moves large bytes to its writer thread and back without a copy, and copies bytes that share memory', async () => {
    const large = Buffer.alloc(300_000, 9);
    const expected = createHash('sha256').update(large).digest('hex');
    const put = await store.put(large);
    expect(large.length).toBe(0); // moved
    expect(put.bytes!.length).toBe(300_000);
    expect(createHash('sha256').update(put.bytes!).digest('hex')).toBe(expected);

    const pooled = Buffer.from('shares the allocation pool'); // a view into Buffer's shared pool: never moved
    const neighbour = Buffer.from('another view of the same pool');
    expect(pooled.buffer).toBe(neighbour.buffer);
    const small = await store.put(pooled);
    expect(pooled.toString()).toBe('shares the allocation pool');
    expect(neighbour.toString()).toBe('another view of the same pool');
    expect((await store.read(small.sha256))!.toString()).toBe('shares the allocation pool');
  });

  it('writes many images at once across its threads, each file complete', async () => {
    const images = Array.from({ length: 40 }, (_, i) => Buffer.alloc(10_000 + i * 1000, i));
    const expected = images.map((b) => createHash('sha256').update(b).digest('hex'));
    const puts = await Promise.all(images.map((b) => store.put(Buffer.from(b))));
    expect(puts.map((p) => p.sha256)).toEqual(expected);
    for (const [i, p] of puts.entries()) expect((await store.read(p.sha256))!.equals(images[i])).toBe(true);
    expect(fs.readdirSync(path.join(root, '.tmp'))).toEqual([]);
  });

  it('answers null for an unknown key and refuses keys that are not sha256 hex', async () => {
    expect(await store.read('a'.repeat(64))).toBeNull();
    expect(await store.stream('a'.repeat(64))).toBeNull();
    await expect(store.read('../../etc/passwd')).rejects.toThrow('invalid image key');
  });

  it('deletes a stored image', async () => {
    const { sha256 } = await store.put(Buffer.from('x'));
    await store.delete(sha256);
    expect(await store.exists(sha256)).toBe(false);
  });

  it('removes temporary files left by a crash at start, but not ones young enough to be a live write', async () => {
    const tmp = path.join(root, '.tmp');
    const old = new Date(Date.now() - STALE_TEMP_AGE_MS - 60_000);
    for (const name of ['a'.repeat(64) + '.4242.0a0b0c', 'probe.4242']) {
      fs.writeFileSync(path.join(tmp, name), 'partial');
      fs.utimesSync(path.join(tmp, name), old, old);
    }
    const live = 'b'.repeat(64) + '.1.0d0e0f'; // another instance (pid 1 in its container) writing right now
    fs.writeFileSync(path.join(tmp, live), 'partial');

    const restarted = new FilesystemImageStore(root);
    await restarted.init();
    await restarted.onApplicationShutdown();
    expect(fs.readdirSync(tmp)).toEqual([live]);
  });

  itWithMount('refuses a write on a full disk with ENOSPC, keeps no partial file, and writes again once space returns', async () => {
    const small = mountSmallFilesystem(1 << 20);
    try {
      const full = new FilesystemImageStore(small.dir);
      await full.init();
      small.fill();
      const bytes = Buffer.alloc(200_000, 3);
      await expect(full.put(Buffer.from(bytes))).rejects.toMatchObject({ code: 'ENOSPC' });
      expect(fs.readdirSync(path.join(small.dir, '.tmp'))).toEqual([]);
      small.free();
      const { sha256 } = await full.put(Buffer.from(bytes));
      expect((await full.read(sha256))!.equals(bytes)).toBe(true);
      await full.onApplicationShutdown();
    } finally {
      small.unmount();
    }
  });
});
