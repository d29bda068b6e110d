import type { Worker } from 'node:worker_threads';
import { startWorkerFile } from '../database/worker-file';
import type { ImageWriteOutcome, ImageWriteRequest } from './image-write.worker';

/** An image write failed on a writer thread; `code` is the errno code (ENOSPC reads as a full disk, as before). */
export class ImageWriteError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'ImageWriteError';
  }
}

/** A written image's name, and its bytes, which the write moved: the Buffer passed in is left empty. */
export interface WrittenImage {
  sha256: string;
  created: boolean;
  bytes: Buffer;
}

interface Writer {
  worker: Worker;
  /** Writes sent to this thread and not answered yet, by request id. */
  pending: Map<number, { resolve: (o: WrittenImage) => void; reject: (e: Error) => void }>;
}

/**
 * Writes images on a few threads of their own (image-write.worker.ts): hashing and the eight file operations of a
 * durable write cost the event loop one message each way instead. The threads mostly wait in fsync, so a handful
 * keep the disk as busy as the 16 libuv threads did.
 */
export class ImageWriterPool {
  private readonly writers: (Writer | undefined)[];
  private nextId = 0;
  private closed = false;

  constructor(
    private readonly threads: number,
    private readonly root: string,
    private readonly tmpDir: string,
  ) {
    this.writers = new Array<Writer | undefined>(threads);
  }

  /**
   * Writes the bytes durably. They are moved to the writer thread and back rather than copied (megabytes per push):
   * `bytes` is left empty, and the result holds them again. Bytes sharing memory with other buffers are copied.
   */
  write(bytes: Buffer): Promise<WrittenImage> {
    if (this.closed) return Promise.reject(new Error('image writer closed'));
    const writer = this.leastBusy();
    const id = this.nextId++;
    const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes);
    return new Promise((resolve, reject) => {
      writer.pending.set(id, { resolve, reject });
      const request: ImageWriteRequest = { id, bytes: own };
      writer.worker.postMessage(request, [own.buffer as ArrayBuffer]);
    });
  }

  /** Waits for the writes under way, then stops the threads. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(
      this.writers.map(async (w) => {
        if (!w) return;
        while (w.pending.size > 0) await new Promise((r) => setTimeout(r, 5));
        await w.worker.terminate();
      }),
    );
  }

  private leastBusy(): Writer {
    let best = -1;
    for (let i = 0; i < this.threads; i++) {
      const w = this.writers[i];
      if (!w) return (this.writers[i] = this.start(i));
      if (best === -1 || w.pending.size < this.writers[best]!.pending.size) best = i;
    }
    return this.writers[best]!;
  }

  private start(slot: number): Writer {
    const worker = startWorkerFile(__dirname, 'image-write.worker', { workerData: { root: this.root, tmpDir: this.tmpDir } });
    worker.unref();
    const writer: Writer = { worker, pending: new Map() };
    worker.on('message', (o: ImageWriteOutcome) => {
      const p = writer.pending.get(o.id);
      writer.pending.delete(o.id);
      if (!p) return;
      if ('failed' in o) p.reject(new ImageWriteError(o.failed.message, o.failed.code));
      else p.resolve({ sha256: o.sha256, created: o.created, bytes: Buffer.from(o.bytes.buffer, o.bytes.byteOffset, o.bytes.byteLength) });
    });
    // A thread that dies fails its writes (their pushes are refused, the box retries); the next write starts another.
    const fail = (error: Error) => {
      if (this.writers[slot] === writer) this.writers[slot] = undefined;
      for (const p of writer.pending.values()) p.reject(error);
      writer.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`image writer thread exited (${code})`)));
    return writer;
  }
}
