import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { SqlDialect } from './sql-dialect';

/**
 * Runs work in one database transaction.
 * TypeORM shares a single connection (one query runner) for better-sqlite3: a second async transaction
 * started while one is open silently becomes a SAVEPOINT inside it, and a Repository.save() outside any
 * transaction joins whichever transaction is open. So on SQLite every write goes through run(), which
 * queues writers; use run((m) => m.getRepository(X).save(...)) rather than an injected repository's save().
 * PostgreSQL uses its pool and row locks; deadlocks and serialisation failures are retried.
 */
@Injectable()
export class UnitOfWork {
  readonly dialect: SqlDialect;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(@InjectDataSource() readonly dataSource: DataSource) {
    this.dialect = new SqlDialect(dataSource);
  }

  /** The work may run more than once on PostgreSQL (retried after a deadlock), so keep side effects inside the transaction. */
  run<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (this.dialect.kind === 'postgres') return this.runWithRetry(work);
    const next = this.tail.then(() => this.dataSource.transaction(work));
    this.tail = next.catch(() => undefined);
    return next;
  }

  private async runWithRetry<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.dataSource.transaction(work);
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
