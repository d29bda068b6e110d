/**
 * Imported first by main.ts, before anything can touch libuv's thread pool (its size is fixed on first use).
 * Every acknowledged image is fsynced (file, then directory) on that pool; with the default 4 threads a burst
 * of uploads queues behind a few fsyncs while the disk could take many at once (the filesystem journal
 * commits concurrent syncs together). An explicit UV_THREADPOOL_SIZE in the environment wins.
 */
export const DEFAULT_THREADPOOL_SIZE = 32;

process.env.UV_THREADPOOL_SIZE ??= String(DEFAULT_THREADPOOL_SIZE);
