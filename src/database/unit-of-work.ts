import { Injectable, Logger } from '@nestjs/common';
import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, QueryFailedError, QueryRunner } from 'typeorm';
import { SqlDialect } from './sql-dialect';
import { sqliteConnection, sqliteWalDatabaseFile } from './sqlite-wal';

/**
 * Runs work in one database transaction.
 * TypeORM shares a single connection (one query runner) for better-sqlite3: a second async transaction
 * started while one is open silently becomes a SAVEPOINT inside it, and a Repository.save() outside any
 * transaction joins whichever transaction is open. So on SQLite every write goes through run(), which
 * queues writers; use run((m) => m.getRepository(X).save(...)) rather than an injected repository's save().
 * PostgreSQL uses its pool and row locks; deadlocks and serialisation failures are retried.
 * On either database a caller is answered only once its COMMIT really committed (TransactionLost otherwise).
 */
@Injectable()
export class UnitOfWork {
  readonly dialect: SqlDialect;
  /** SQLite group commit: transactions queued while the previous group was committing. */
  private queue: QueuedWork[] = [];
  private draining = false;
  /** Commits made on SQLite and the units of work they carried (groups <= works). */
  readonly groupCommits = { groups: 0, works: 0 };
  private walSync?: Promise<string | null>;
  private runningSync: Promise<void> | null = null;
  private nextSync: Promise<void> | null = null;
  private walHandle?: Promise<FileHandle | null>;
  private walIdle?: NodeJS.Timeout;
  private readonly logger = new Logger(UnitOfWork.name);

  constructor(@InjectDataSource() readonly dataSource: DataSource) {
    this.dialect = new SqlDialect(dataSource);
  }

  /** The work may run more than once on PostgreSQL (retried after a deadlock), so keep side effects inside the transaction. */
  run<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (this.dialect.kind === 'postgres') return this.runWithRetry(work);
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (v: unknown) => void, reject });
      if (!this.draining) {
        this.draining = true;
        void this.drain();
      }
    });
  }

  /**
   * SQLite group commit. A COMMIT that fsyncs the WAL (synchronous=FULL) does so on the event loop, because
   * better-sqlite3 is synchronous, so one commit per push capped ingest at the disk's fsync rate with the
   * whole server stalled meanwhile. Units of work that queue up while a commit is in progress are run one after
   * another in the next transaction, each inside its own SAVEPOINT (a failing unit rolls back only its own
   * writes), and share its single COMMIT. With synchronous=NORMAL in WAL mode (data-source-options.ts) the
   * COMMIT itself does not fsync: the WAL file is then fsynced here on the thread pool, and every caller is
   * answered only after the fsync that made its writes durable, while the next group already runs.
   */
  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        // better-sqlite3 is synchronous, so a whole transaction runs without yielding to the event loop: let it
        // take in what is ready first (requests whose bodies arrived during the last commit), to join this group.
        await new Promise<void>((resolve) => setImmediate(resolve));
        await this.commitGroup(this.queue.splice(0, MAX_GROUP));
      }
    } finally {
      this.draining = false;
    }
  }

  /** Runs and commits one group; its callers are answered once the commit is durable (not awaited here). */
  private async commitGroup(group: QueuedWork[]): Promise<void> {
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    try {
      this.walSync ??= this.detectWalSync();
      await this.walSync;
      this.resetIfOutOfStep();
      const db = sqliteConnection(this.dataSource);
      await this.dataSource.transaction(async (manager) => {
        const runner = manager.queryRunner!;
        for (const unit of group) {
          await runner.startTransaction(); // nested: SAVEPOINT
          try {
            const value = await unit.work(manager);
            await runner.commitTransaction(); // RELEASE SAVEPOINT
            outcomes.push({ ok: true, value });
          } catch (error) {
            outcomes.push({ ok: false, error });
            // SQLITE_FULL (or an I/O error) may have rolled back the whole transaction, savepoints included.
            if (!db.inTransaction) throw new TransactionLost('SQLite rolled the transaction back', { cause: error });
            await runner.rollbackTransaction(); // ROLLBACK TO SAVEPOINT; if that fails, the whole group fails
          }
          // Also when a unit swallowed the failure: its later statements ran (and committed) outside the group.
          if (!db.inTransaction) throw new TransactionLost('SQLite rolled the transaction back');
        }
      });
      // TypeORM's COMMIT resolved: SQLite must agree that the transaction ended, or nothing is committed.
      if (db.inTransaction) throw new TransactionLost('COMMIT left the transaction open');
    } catch (error) {
      // Nothing of the group is durable: every unit fails (with its own error if it had one).
      try {
        this.resetIfOutOfStep();
      } catch (resetError) {
        this.logger.error(`could not roll back SQLite after a failed group commit: ${(resetError as Error).message}`);
      }
      group.forEach((unit, i) => unit.reject(outcomes[i]?.ok === false ? outcomes[i].error : error));
      return;
    }
    this.groupCommits.groups++;
    this.groupCommits.works += group.length;
    const answer = () =>
      group.forEach((unit, i) => {
        const o = outcomes[i];
        if (o.ok) unit.resolve(o.value);
        else unit.reject(o.error);
      });
    const walFile = await this.walSync;
    if (!walFile) return answer();
    this.syncWal(walFile).then(answer, (error: unknown) => group.forEach((unit) => unit.reject(error)));
  }

  /**
   * Puts SQLite and TypeORM back in step, idle. When COMMIT fails (SQLITE_FULL: no space for the WAL) SQLite has
   * already rolled back, so TypeORM's ROLLBACK fails too and its query runner keeps counting one transaction level
   * open: the next "transaction" would then start as a SAVEPOINT and every group after it run inside a transaction
   * that is never committed, answered after a WAL fsync and lost at shutdown. SQLite's own flag is the truth here.
   */
  private resetIfOutOfStep(): void {
    const db = sqliteConnection(this.dataSource);
    const runner = this.dataSource.createQueryRunner();
    const depth = (runner as unknown as { transactionDepth: number }).transactionDepth;
    if (!db.inTransaction && !runner.isTransactionActive && depth === 0) return;
    try {
      if (db.inTransaction) db.exec('ROLLBACK');
    } finally {
      forgetTransaction(runner);
    }
  }

  /** The WAL file to fsync after each commit, or null when COMMIT already does (synchronous=FULL) or there is none. */
  private async detectWalSync(): Promise<string | null> {
    const database = await sqliteWalDatabaseFile(this.dataSource);
    if (!database) return null;
    const [{ synchronous: level }] = await this.dataSource.query('PRAGMA synchronous');
    return Number(level) < 2 ? `${database}-wal` : null;
  }

  /**
   * Resolves after an fsync of the WAL that started after this call: one fsync at a time, and every commit
   * made while one runs shares the next (group commit of the flushes too).
   */
  private syncWal(file: string): Promise<void> {
    if (this.nextSync) return this.nextSync;
    const start = (): Promise<void> => {
      clearTimeout(this.walIdle);
      const p = this.fsyncWal(file).finally(() => {
        if (this.runningSync === p) this.runningSync = null;
        // Idle: no descriptor outlives the burst of writes. Closed a little later, not at once: under steady load a
        // flush often finds no commit waiting yet, and reopening the WAL cost a thread-pool open and close per group.
        if (!this.nextSync) this.walIdle = setTimeout(() => void this.closeWal(), WAL_IDLE_CLOSE_MS).unref();
      });
      this.runningSync = p;
      return p;
    };
    if (!this.runningSync) return start();
    const next: Promise<void> = this.runningSync
      .catch(() => undefined)
      .then(() => {
        this.nextSync = null;
        return start();
      });
    this.nextSync = next;
    return next;
  }

  /**
   * fsync of the WAL through a descriptor kept open while flushes follow each other: SQLite keeps the WAL file
   * (same inode) while the database is open, and opening and closing it around every flush added two thread-pool
   * round trips per group under load.
   */
  private async fsyncWal(file: string): Promise<void> {
    this.walHandle ??= openIfExists(file);
    const handle = await this.walHandle;
    if (!handle) {
      this.walHandle = undefined;
      return; // no WAL yet: nothing was written through it
    }
    try {
      await handle.sync();
    } catch (e) {
      await this.closeWal();
      throw e;
    }
  }

  private async closeWal(): Promise<void> {
    const handle = this.walHandle;
    this.walHandle = undefined;
    await (await handle?.catch(() => null))?.close().catch(() => undefined);
  }

  /** dataSource.transaction(work), with a COMMIT whose outcome is checked (see commitOrThrow). */
  private async transactionOnce<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    const runner = this.dataSource.createQueryRunner();
    try {
      await runner.startTransaction();
      let result: T;
      try {
        result = await work(runner.manager);
      } catch (e) {
        await runner.rollbackTransaction().catch(() => undefined);
        throw e;
      }
      await commitOrThrow(runner);
      return result;
    } finally {
      await runner.release();
    }
  }

  private async runWithRetry<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.transactionOnce(work);
      } catch (e) {
        // 40P01 deadlock_detected, 40001 serialization_failure: the transaction was rolled back whole.
        const code = (e as { driverError?: { code?: string }; code?: string }).driverError?.code ?? (e as { code?: string }).code;
        if (attempt >= MAX_ATTEMPTS || (code !== '40P01' && code !== '40001')) throw e;
        await new Promise((r) => setTimeout(r, 10 * attempt + Math.random() * 20));
      }
    }
  }
}

const MAX_ATTEMPTS = 5;

/** How long the WAL descriptor stays open after the last flush of a burst. */
const WAL_IDLE_CLOSE_MS = 250;

type PgClient = { query(sql: string): Promise<{ command?: string }> };

/**
 * COMMIT on PostgreSQL, failing unless it committed. A transaction in which a statement failed (its error caught
 * and ignored by the work) is answered "ROLLBACK" by COMMIT, without an error: TypeORM's commitTransaction() would
 * resolve, and the caller answer 200 for writes that were all rolled back.
 */
async function commitOrThrow(runner: QueryRunner): Promise<void> {
  const client = (runner as unknown as { databaseConnection: PgClient }).databaseConnection;
  let command: string | undefined;
  try {
    ({ command } = await client.query('COMMIT'));
  } catch (e) {
    throw new QueryFailedError('COMMIT', [], e as Error);
  } finally {
    // Committed or not, the transaction is over (a failed COMMIT rolls back): keep TypeORM's runner in step.
    forgetTransaction(runner);
  }
  if (command !== 'COMMIT') throw new TransactionLost(`COMMIT was answered ${command}: the transaction had failed and was rolled back`);
}

/** Tells TypeORM's query runner that no transaction is open, after the database ended it behind TypeORM's back. */
function forgetTransaction(runner: QueryRunner): void {
  Object.assign(runner, { isTransactionActive: false, transactionDepth: 0 });
}

async function openIfExists(file: string): Promise<FileHandle | null> {
  try {
    return await fsp.open(file, 'r+');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}
/** Bound on units per SQLite commit, so one group never holds the writer for long. */
const MAX_GROUP = 64;

/** A transaction the database rolled back (or SQLite kept open) behind TypeORM's back: none of it is committed. */
export class TransactionLost extends Error {}

interface QueuedWork {
  work: (manager: EntityManager) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}
