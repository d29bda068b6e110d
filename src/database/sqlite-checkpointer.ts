import { Inject, Injectable, Logger, Optional, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Worker } from 'node:worker_threads';
import { DataSource } from 'typeorm';
import { startWorkerFile } from './worker-file';
import type { CheckpointReport, CheckpointWorkerData, StopMessage } from './sqlite-checkpoint.worker';
import { sqliteWalDatabaseFile } from './sqlite-wal';

export interface CheckpointerOptions {
  /** How often the worker checkpoints, ms. */
  intervalMs: number;
  /**
   * WAL size (pages) at which the main connection still checkpoints by itself: a safety net for the WAL never
   * getting a moment to start over under non-stop writes. By then the worker has copied nearly all of it.
   */
  mainConnectionPages: number;
}

export const CHECKPOINTER_OPTIONS = Symbol('CHECKPOINTER_OPTIONS');
export const DEFAULT_CHECKPOINTER_OPTIONS: CheckpointerOptions = { intervalMs: 200, mainConnectionPages: 16_384 };

/**
 * Checkpoints the SQLite WAL from a worker thread (sqlite-checkpoint.worker.ts). better-sqlite3 is synchronous, so SQLite's automatic checkpoint
 * ran inside whichever COMMIT crossed the threshold (1,000 pages): on the event loop, copying pages and fsyncing the
 * database file while every request waited (it made COMMIT cost ~0.6 ms on average under ingest). The copy and its
 * fsync now happen on the worker's own connection, and the main connection's threshold is far higher; durability is unchanged (the WAL is
 * fsynced by UnitOfWork before callers are answered, and a checkpoint fsyncs the WAL before copying it back).
 */
@Injectable()
export class SqliteCheckpointer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SqliteCheckpointer.name);
  private worker?: Worker;
  private lastError?: string;
  /** Latest worker report: frames in the WAL and frames copied back into the database. */
  lastReport?: { log: number; checkpointed: number };

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Optional() @Inject(CHECKPOINTER_OPTIONS) private readonly options: CheckpointerOptions = DEFAULT_CHECKPOINTER_OPTIONS,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  /** Starts the worker for a file database in WAL mode; anything else keeps SQLite's own checkpoints. */
  async start(): Promise<void> {
    if (this.worker) return;
    const file = await sqliteWalDatabaseFile(this.dataSource);
    if (!file) return;
    await this.dataSource.query(`PRAGMA wal_autocheckpoint = ${Math.floor(this.options.mainConnectionPages)}`);
    // After the WAL starts over, SQLite cuts the file back to this size (it would otherwise stay at its largest).
    await this.dataSource.query(`PRAGMA journal_size_limit = ${64 * 1024 * 1024}`);
    const workerData: CheckpointWorkerData = { file, intervalMs: this.options.intervalMs };
    const worker = startWorkerFile(__dirname, 'sqlite-checkpoint.worker', { workerData });
    worker.unref();
    worker.on('message', (m: CheckpointReport) => {
      if (m.ok) {
        this.lastReport = { log: m.log, checkpointed: m.checkpointed };
        this.lastError = undefined;
      } else if (m.error !== this.lastError) {
        // Logged once per distinct failure; the next tick tries again.
        this.lastError = m.error;
        this.logger.warn(`WAL checkpoint failed: ${m.error}`);
      }
    });
    worker.on('error', (e) => this.fallBack(`WAL checkpoint worker failed: ${e.message}`));
    worker.on('exit', (code) => {
      if (this.worker === worker) this.fallBack(`WAL checkpoint worker exited with code ${code}`);
    });
    this.worker = worker;
  }

  async stop(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage('stop' satisfies StopMessage);
    await exited;
  }

  /** Without the worker, SQLite's automatic checkpoints are the only thing keeping the WAL from growing. */
  private fallBack(reason: string): void {
    this.worker = undefined;
    this.logger.error(`${reason}; checkpointing on the main connection again`);
    if (this.dataSource.isInitialized) void this.dataSource.query('PRAGMA wal_autocheckpoint = 1000').catch(() => undefined);
  }
}
