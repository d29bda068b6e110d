import { Injectable, Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { UnitOfWork } from '../database/unit-of-work';
import { sqliteConnection, sqliteWalDatabaseFile } from '../database/sqlite-wal';

/** How long a WAL truncation keeps trying while readers or the checkpoint worker hold the WAL. */
const WAL_TRUNCATE_DEADLINE_MS = 10_000;

/**
 * Makes erased values physically gone from the database files once the erasing transactions committed.
 * SQLite: secure_delete (data-source-options.ts) zeroes deleted content in the pages, but the WAL still holds
 * the pages' earlier versions, so the WAL is checkpointed into the database and truncated to zero bytes.
 * PostgreSQL: an updated or deleted row leaves its old version (and its TOAST chunks and index entries) as a dead
 * tuple until VACUUM, so the touched tables are vacuumed, index entries included.
 */
@Injectable()
export class StoragePurgeService {
  private readonly logger = new Logger(StoragePurgeService.name);

  constructor(private readonly uow: UnitOfWork) {}

  /** True when done; a failure is logged and reported, never thrown (the erasure itself has committed). */
  async purge(tables: readonly string[]): Promise<boolean> {
    try {
      if (this.uow.dialect.kind === 'postgres') await this.vacuum(tables);
      else await this.truncateWal();
      return true;
    } catch (e) {
      this.logger.warn(`erased data may stay in database files until reused: ${(e as Error).message}`);
      return false;
    }
  }

  private async vacuum(tables: readonly string[]): Promise<void> {
    // Outside any transaction (VACUUM refuses to run in one), on a pooled connection of its own. INDEX_CLEANUP ON:
    // by default VACUUM may skip the indexes when few rows died, leaving the erased image hashes in them.
    await this.uow.dataSource.query(`VACUUM (INDEX_CLEANUP ON) ${tables.join(', ')}`);
  }

  private async truncateWal(): Promise<void> {
    if (!(await sqliteWalDatabaseFile(this.uow.dataSource))) return;
    const db = sqliteConnection(this.uow.dataSource);
    const deadline = Date.now() + WAL_TRUNCATE_DEADLINE_MS;
    for (;;) {
      // The one connection is shared: a unit of work's transaction stays open across its awaits, and a checkpoint
      // cannot run inside it. UnitOfWork yields to setImmediate between groups; polling in the same phase lands there.
      while (db.inTransaction) {
        if (Date.now() > deadline) throw new Error('no moment without an open transaction to truncate the WAL');
        await new Promise((resolve) => setImmediate(resolve));
      }
      // Synchronous from here on: nothing else runs on the connection. A short busy timeout, because waiting
      // blocks the event loop; a busy WAL (the checkpoint worker, another process reading) is retried below.
      const previous = db.pragma('busy_timeout', { simple: true });
      let busy = 1;
      try {
        db.pragma('busy_timeout = 50');
        [{ busy }] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
      } catch (e) {
        if ((e as { code?: string }).code !== 'SQLITE_BUSY') throw e;
      } finally {
        db.pragma(`busy_timeout = ${Number(previous)}`);
      }
      if (busy === 0) return;
      if (Date.now() > deadline) throw new Error('the WAL stayed in use by another connection');
      await sleep(20);
    }
  }
}
