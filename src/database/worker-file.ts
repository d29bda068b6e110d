import * as path from 'node:path';
import { Worker, WorkerOptions } from 'node:worker_threads';

/**
 * Starts the worker file `<name>.js` that the build put next to the caller's compiled file (`dir` is the caller's
 * __dirname). Under Jest the sources run as TypeScript (this file is then a .ts too): the worker's `<name>.ts`
 * is compiled in its thread by SWC, which the tests already use (ts-worker.cjs).
 */
export function startWorkerFile(dir: string, name: string, options: WorkerOptions): Worker {
  const module = workerModule(dir, name);
  return new Worker(module.filename, { ...options, argv: module.argv });
}

/**
 * The same for a worker pool that loads a module exporting the task function (Piscina's `filename` and `argv`): the
 * compiled `<name>.js`, or under Jest ts-worker.cjs, which compiles `<name>.ts` and exports what it exports.
 */
export function workerModule(dir: string, name: string): { filename: string; argv: string[] } {
  if (path.extname(__filename) !== '.ts') return { filename: path.join(dir, `${name}.js`), argv: [] };
  return { filename: path.join(__dirname, 'ts-worker.cjs'), argv: [path.join(dir, `${name}.ts`)] };
}
