import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ImageWriteError, ImageWriterPool } from './image-writer-pool';

describe('ImageWriterPool', () => {
  let root: string;
  let pool: ImageWriterPool;

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'rh-image-writer-'));
    fs.mkdirSync(path.join(root, '.tmp'));
    pool = new ImageWriterPool(2, root, path.join(root, '.tmp'));
  });
  afterEach(async () => {
    await pool.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('fails the writes of a thread that dies, and the next write starts another thread', async () => {
    await pool.close();
    pool = new ImageWriterPool(1, root, path.join(root, '.tmp'));
    await pool.write(Buffer.alloc(10, 1)); // starts the first thread
    const dying = (pool as unknown as { writers: { worker: { terminate(): Promise<number> } }[] }).writers[0];
    void dying.worker.terminate();
    await expect(pool.write(Buffer.alloc(10, 2))).rejects.toThrow(/image writer thread exited/);
    const bytes = Buffer.alloc(20_000, 3);
    const expected = createHash('sha256').update(bytes).digest('hex');
    const again = await pool.write(Buffer.from(bytes));
    expect(again.sha256).toBe(expected);
    expect(fs.readFileSync(path.join(root, expected.slice(0, 2), expected.slice(2, 4), expected)).equals(bytes)).toBe(true);
  });

  it("reports a failed write with the file system's error code", async () => {
    fs.rmSync(path.join(root, '.tmp'), { recursive: true });
    const failure = pool.write(Buffer.alloc(10, 4));
    await expect(failure).rejects.toBeInstanceOf(ImageWriteError);
    await expect(failure).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses writes once closed', async () => {
    await pool.close();
    await expect(pool.write(Buffer.alloc(10))).rejects.toThrow('image writer closed');
  });
});
