import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { imagePath } from './image-paths';

/** The store's directories: images under `root`, each in `tmpDir` until it is complete. */
export interface ImageWriterData {
  root: string;
  tmpDir: string;
}

/** One image to store. */
export interface ImageWriteRequest {
  id: number;
  bytes: Uint8Array;
}

/**
 * The outcome, with a failure's errno code kept (a thrown Error loses it on its way between threads), and the bytes
 * handed back: they travel to this thread and back by transfer, never copied.
 */
export type ImageWriteOutcome = { id: number; bytes: Uint8Array } & (
  { sha256: string; created: boolean } | { failed: { code: string | undefined; message: string } }
);

/** Directories this thread has created or found: mkdir is skipped for them. */
const knownDirs = new Set<string>();

/**
 * Runs on an image writer thread (ImageWriterPool): the whole write of one image in plain synchronous calls. On the
 * event loop the same steps were eight thread-pool round trips (~45 µs of main-thread CPU each) plus the hash.
 * Same order as ever: temporary file written and fsynced, renamed into place, directory fsynced.
 */
function writeImage({ id, bytes }: ImageWriteRequest): ImageWriteOutcome {
  try {
    return { id, bytes, ...put(bytes) };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return { id, bytes, failed: { code: typeof err.code === 'string' ? err.code : undefined, message: String(err.message) } };
  }
}

const { root, tmpDir } = workerData as ImageWriterData;
parentPort!.on('message', (request: ImageWriteRequest) => {
  const outcome = writeImage(request);
  parentPort!.postMessage(outcome, [outcome.bytes.buffer as ArrayBuffer]);
});

function put(bytes: Uint8Array): { sha256: string; created: boolean } {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const target = imagePath(root, sha256);
  if (fs.existsSync(target)) return { sha256, created: false };
  const dir = path.dirname(target);
  if (!knownDirs.has(dir)) {
    fs.mkdirSync(dir, { recursive: true });
    knownDirs.add(dir);
  }
  const tmp = path.join(tmpDir, `${sha256}.${process.pid}.${randomBytes(6).toString('hex')}`);
  try {
    const fd = fs.openSync(tmp, 'wx');
    try {
      for (let at = 0; at < bytes.length;) at += fs.writeSync(fd, bytes, at);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    // rename is atomic; a concurrent writer of the same bytes just replaces an identical file.
    fs.renameSync(tmp, target);
  } catch (e) {
    // A full disk must not keep the partial file: it would hold on to the space once the disk has room again.
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  const dirFd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(dirFd);
  } finally {
    fs.closeSync(dirFd);
  }
  return { sha256, created: true };
}
