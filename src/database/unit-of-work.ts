import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { SqlDialect } from './sql-dialect';

/**
 * Runs work in one database transaction.
 * TypeORM shares a single connection for better-sqlite3, so two interleaved async transactions would
 * collide ("cannot start a transaction within a transaction"); on SQLite writes are queued here instead.
 * PostgreSQL uses its pool and row locks.
 */
@Injectable()
export class UnitOfWork {
  readonly dialect: SqlDialect;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(@InjectDataSource() readonly dataSource: DataSource) {
    this.dialect = new SqlDialect(dataSource);
  }

  run<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (this.dialect.kind === 'postgres') return this.dataSource.transaction(work);
    const next = this.tail.then(() => this.dataSource.transaction(work));
    this.tail = next.catch(() => undefined);
    return next;
  }
}
