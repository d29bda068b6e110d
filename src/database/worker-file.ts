import * as path from 'node:path';
import { Worker, WorkerOptions } from 'node:worker_threads';

/**
 * Starts the worker file `<name>.js` that the build put next to the caller's compiled file (`dir` is the caller's
 * __dirname). Under Jest the sources run as TypeScript (this file is then a .ts too): the worker's `<name>.ts`
 * is compiled in its thread by SWC, which the tests already use (ts-worker.cjs).
 */
export function startWorkerFile(dir: string, name: string, options: WorkerOptions): Worker {
  if (path.extname(__filename) !== '.ts') return new Worker(path.join(dir, `${name}.js`), options);
  return new Worker(path.join(__dirname, 'ts-worker.cjs'), { ...options, argv: [path.join(dir, `${name}.ts`)] });
}
