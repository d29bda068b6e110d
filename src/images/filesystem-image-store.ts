import { createReadStream, existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { imagePath } from './image-paths';
import { ImageStore, PutResult, SHA256_HEX } from './image-store';
import { ImageWriterPool } from './image-writer-pool';

/**
 * A temporary file this old is left over (an instance was killed, or its write failed and could not clean up):
 * a live write fsyncs and renames its file within seconds. Instances sharing the directory may be on other hosts
 * or in containers that all run as pid 1, so age is the one owner-free test.
 */
export const STALE_TEMP_AGE_MS = 15 * 60_000;

/** Threads that write images when IMAGE_WRITE_THREADS is not set. */
const DEFAULT_IMAGE_WRITE_THREADS = 4;

/**
 * Files under <root>/ab/cd/<sha256>. Writes go to a temporary file that is fsynced and renamed into
 * place, then the directory is fsynced, so a reader (or another instance sharing the directory)
 * sees either nothing or the whole file, and an acknowledged image survives a crash. The writes run on
 * the image writer threads (image-write.worker.ts), off the event loop.
 */
export class FilesystemImageStore extends ImageStore {
  private readonly tmpDir: string;
  private readonly writer: ImageWriterPool;
  private sweeper?: NodeJS.Timeout;

  constructor(
    private readonly root: string,
    private readonly staleTempAgeMs = STALE_TEMP_AGE_MS,
    writerThreads = DEFAULT_IMAGE_WRITE_THREADS,
  ) {
    super();
    this.tmpDir = path.join(root, '.tmp');
    this.writer = new ImageWriterPool(writerThreads, root, this.tmpDir);
  }

  /** Creates the directories and removes stale temporary files, at start and then every staleTempAgeMs. */
  async init(): Promise<void> {
    await fs.mkdir(this.tmpDir, { recursive: true });
    await fs.mkdir(this.quarantineDir, { recursive: true });
    await this.removeStaleTemp();
    this.sweeper ??= setInterval(() => void this.removeStaleTemp().catch(() => undefined), this.staleTempAgeMs).unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    await this.writer.close();
  }

  /**
   * Removes temporary files older than staleTempAgeMs; younger ones may be another instance's write in progress.
   * Were one removed anyway, that write's rename fails and its push is refused: never a 200 without the image.
   */
  async removeStaleTemp(): Promise<number> {
    const cutoff = Date.now() - this.staleTempAgeMs;
    let removed = 0;
    for (const name of await fs.readdir(this.tmpDir)) {
      const file = path.join(this.tmpDir, name);
      const stat = await fs.lstat(file).catch(() => null); // renamed meanwhile: not stale
      if (!stat || !stat.isFile() || stat.mtimeMs >= cutoff) continue;
      await fs.rm(file, { force: true });
      removed++;
    }
    return removed;
  }

  pathFor(sha256: string): string {
    return imagePath(this.root, sha256);
  }

  /** The bytes move to a writer thread and back (see ImageWriterPool.write): use the result's `bytes` afterwards. */
  async put(bytes: Buffer): Promise<PutResult> {
    const written = await this.writer.write(bytes);
    return { sha256: written.sha256, byteSize: written.bytes.length, created: written.created, bytes: written.bytes };
  }

  async read(sha256: string): Promise<Buffer | null> {
    try {
      return await fs.readFile(this.pathFor(sha256));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  async stream(sha256: string): Promise<Readable | null> {
    if (!(await this.exists(sha256))) return null;
    return createReadStream(this.pathFor(sha256));
  }

  /**
   * A synchronous stat: on the ingest path every image is looked up twice (before writing, and after the commit
   * against a concurrent purge), and a thread-pool round trip costs ~40 µs of CPU where a stat of a cached
   * directory entry costs a few.
   */
  async exists(sha256: string): Promise<boolean> {
    return existsSync(this.pathFor(sha256));
  }

  async delete(sha256: string): Promise<void> {
    await fs.rm(this.pathFor(sha256), { force: true });
  }

  async quarantine(sha256: string): Promise<boolean> {
    try {
      await fs.rename(this.pathFor(sha256), this.quarantinePath(sha256));
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    }
  }

  async restoreQuarantined(sha256: string): Promise<void> {
    const target = this.pathFor(sha256);
    await fs.mkdir(path.dirname(target), { recursive: true });
    try {
      await fs.rename(this.quarantinePath(sha256), target);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }

  async discardQuarantined(sha256: string): Promise<void> {
    await fs.rm(this.quarantinePath(sha256), { force: true });
  }

  async listQuarantined(): Promise<string[]> {
    const names = await fs.readdir(this.quarantineDir).catch(() => [] as string[]);
    return names.filter((n) => SHA256_HEX.test(n));
  }

  private get quarantineDir(): string {
    return path.join(this.root, '.purge');
  }

  private quarantinePath(sha256: string): string {
    if (!SHA256_HEX.test(sha256)) throw new Error('invalid image key');
    return path.join(this.quarantineDir, sha256);
  }

  async checkWritable(): Promise<void> {
    const probe = path.join(this.tmpDir, `probe.${process.pid}`);
    try {
      await fs.writeFile(probe, 'ok');
    } finally {
      await fs.rm(probe, { force: true });
    }
  }
}
