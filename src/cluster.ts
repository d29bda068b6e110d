import cluster, { type Worker } from 'node:cluster';
import * as os from 'node:os';
import pino, { type Logger as Pino } from 'pino';
import { AggregatorRegistry } from 'prom-client';
import { fork } from 'node:child_process';
import type { Environment } from './config/environment';
import { CLUSTER_METRICS, type ClusterMetricsMessage } from './metrics/metrics.types';

/** Environment variable that tells a forked worker its number (1..WEB_CONCURRENCY), kept across restarts. */
export const WORKER_ID_VARIABLE = 'RH_WORKER_ID';
/** Set on the short-lived process the primary runs the migrations in (main.ts then migrates and exits). */
export const MIGRATE_ONLY_VARIABLE = 'RH_MIGRATE_ONLY';

/**
 * How many HTTP worker processes to run. SQLite is owned by one process (its group commit, WAL fsync and
 * checkpointer assume it). PostgreSQL takes writers from several processes, but by default only every other core
 * gets one: each worker repeats per-record work (its own face index adds every record's vector, its own relay
 * passes) and splits the ingest batches, and concurrent batches of two workers queue on the same box and device
 * rows, each holding them until its commit. On 2 cores one worker stored 1.2-4x the records of two (README,
 * Performance).
 */
export function workerCount(
  env: Pick<Environment, 'WEB_CONCURRENCY' | 'DATABASE_URL'>,
  warn: (message: string) => void,
  cores = os.availableParallelism(),
): number {
  if (!env.DATABASE_URL) {
    if ((env.WEB_CONCURRENCY ?? 1) > 1) warn(`WEB_CONCURRENCY=${env.WEB_CONCURRENCY} ignored: SQLite runs as one process`);
    return 1;
  }
  return env.WEB_CONCURRENCY ?? Math.max(1, Math.floor(cores / 2));
}

/** A worker dying this soon after its start counts as a crash loop: its restarts back off. */
const QUICK_DEATH_MS = 10_000;
const MAX_RESTART_DELAY_MS = 30_000;

/**
 * The cluster primary: runs the migrations once, forks the workers (each a whole hub sharing the port, the
 * connections handed out round-robin), restarts a worker that dies, forwards SIGTERM/SIGINT to every worker and
 * exits once all have shut down, and answers the workers' requests for metrics summed over all of them. It serves
 * no HTTP itself.
 */
export class ClusterPrimary {
  private readonly log: Pino;
  private readonly workers = new Map<number, Worker>();
  private readonly startedAt = new Map<number, number>();
  private readonly quickDeaths = new Map<number, number>();
  private readonly exitCodes: number[] = [];
  private anyListening = false;
  private stopping = false;
  private nextRequest = 0;
  private readonly pendingParts = new Map<number, { parts: object[][]; waiting: number; done: (e: Error | null) => void }>();

  constructor(
    private readonly env: Environment,
    private readonly count: number,
  ) {
    this.log = pino({ level: env.LOG_LEVEL, base: { pid: process.pid, hostname: os.hostname(), worker: 'primary' } });
  }

  async run(): Promise<void> {
    // Workers would otherwise each try to migrate; the advisory lock would serialise them, but once is enough.
    // In a process of its own (this file, RH_MIGRATE_ONLY=1), so the primary stays small: TypeORM and the entities
    // would otherwise stay loaded here for nothing. It takes the PostgreSQL advisory lock like any instance.
    if (this.env.DB_MIGRATIONS_RUN) await this.migrate();
    cluster.on('message', (worker, message: ClusterMetricsMessage) => this.onMessage(worker, message));
    cluster.on('listening', (worker) => {
      this.anyListening = true;
      this.log.info({ context: 'Cluster', workerPid: worker.process.pid }, `worker ${this.idOf(worker)} listening`);
    });
    cluster.on('exit', (worker, code, signal) => this.onExit(worker, code, signal));
    for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => this.shutdown(sig));
    for (let id = 1; id <= this.count; id++) this.fork(id);
    this.log.info({ context: 'Cluster' }, `primary started ${this.count} workers`);
  }

  private migrate(): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = fork(process.argv[1], process.argv.slice(2), {
        env: { ...process.env, [MIGRATE_ONLY_VARIABLE]: '1' },
        stdio: 'inherit',
      });
      child.once('error', reject);
      child.once('exit', (code, signal) =>
        code === 0 ? resolve() : reject(new Error(`migrations failed (${signal ? `signal ${signal}` : `exit code ${code}`}); see above`)),
      );
    });
  }

  private fork(id: number): void {
    const worker = cluster.fork({ [WORKER_ID_VARIABLE]: String(id), DB_MIGRATIONS_RUN: 'false' });
    this.workers.set(id, worker);
    this.startedAt.set(id, Date.now());
  }

  private idOf(worker: Worker): number {
    for (const [id, w] of this.workers) if (w === worker) return id;
    return 0;
  }

  private onExit(worker: Worker, code: number | null, signal: string | null): void {
    const id = this.idOf(worker);
    if (id) this.workers.delete(id);
    if (this.stopping) {
      this.exitCodes.push(code ?? 1);
      if (this.workers.size === 0) {
        const failed = this.exitCodes.some((c) => c !== 0);
        this.log.info({ context: 'Cluster' }, `all workers stopped${failed ? ' (some not cleanly)' : ''}`);
        process.exit(failed ? 1 : 0);
      }
      return;
    }
    const how = signal ? `signal ${signal}` : `code ${code}`;
    if (!this.anyListening) {
      // No worker ever started (bad database URL, failed migration…): fail like a single process would.
      this.log.error({ context: 'Cluster' }, `worker ${id} exited with ${how} before any worker started; stopping`);
      this.stopping = true;
      this.exitCodes.push(1);
      for (const w of this.workers.values()) w.process.kill('SIGTERM');
      if (this.workers.size === 0) process.exit(1);
      return;
    }
    const quick = Date.now() - (this.startedAt.get(id) ?? 0) < QUICK_DEATH_MS;
    const deaths = quick ? (this.quickDeaths.get(id) ?? 0) + 1 : 0;
    this.quickDeaths.set(id, deaths);
    const delay = deaths <= 1 ? 0 : Math.min(MAX_RESTART_DELAY_MS, 1000 * 2 ** (deaths - 2));
    this.log.warn({ context: 'Cluster', workerPid: worker.process.pid }, `worker ${id} exited with ${how}; restarting it in ${delay} ms`);
    setTimeout(() => {
      if (!this.stopping) this.fork(id);
    }, delay);
  }

  private shutdown(signal: string): void {
    if (this.stopping) return;
    this.stopping = true;
    this.log.info({ context: 'Cluster' }, `${signal}: stopping ${this.workers.size} workers`);
    if (this.workers.size === 0) process.exit(0);
    for (const w of this.workers.values()) w.process.kill('SIGTERM');
    // Each worker bounds its own shutdown by SHUTDOWN_TIMEOUT_MS; this only catches one that hangs past it.
    setTimeout(() => {
      this.log.error({ context: 'Cluster' }, 'workers still running after the shutdown timeout; killing them');
      for (const w of this.workers.values()) w.process.kill('SIGKILL');
    }, this.env.SHUTDOWN_TIMEOUT_MS + 10_000).unref();
  }

  /** A worker asked for the cluster's metrics: collect every worker's, sum them, answer the one that asked. */
  private onMessage(from: Worker, message: ClusterMetricsMessage): void {
    if (message?.kind === CLUSTER_METRICS.part) {
      const pending = this.pendingParts.get(message.id);
      if (!pending) return;
      if (message.metrics) pending.parts.push(message.metrics);
      if (--pending.waiting === 0) pending.done(null);
      return;
    }
    if (message?.kind !== CLUSTER_METRICS.request) return;
    const id = this.nextRequest++;
    const reply = (answer: Omit<Extract<ClusterMetricsMessage, { kind: 'rh:metrics:response' }>, 'kind' | 'id'>) => {
      if (from.isConnected()) from.send({ kind: CLUSTER_METRICS.response, id: message.id, ...answer });
    };
    const live = [...this.workers.values()].filter((w) => w.isConnected());
    const parts: object[][] = [];
    const timer = setTimeout(() => finish(), 5000);
    const finish = () => {
      clearTimeout(timer);
      if (!this.pendingParts.delete(id)) return;
      AggregatorRegistry.aggregate(parts)
        .metrics()
        .then((text) => reply({ text, workers: parts.length }))
        .catch((e: Error) => reply({ error: e.message }));
    };
    this.pendingParts.set(id, { parts, waiting: live.length, done: finish });
    for (const w of live) w.send({ kind: CLUSTER_METRICS.collect, id });
    if (live.length === 0) finish();
  }
}
