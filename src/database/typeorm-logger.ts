import { Logger as NestLogger } from '@nestjs/common';
import type { Logger as TypeOrmLogger } from 'typeorm';
import { redactSql, sqlHash, summarizeDatabaseError } from './database-errors';

/**
 * TypeORM's logs as JSON lines through the application logger (pino, see src/logging). TypeORM's own loggers
 * print a failed query with `-- PARAMETERS: [...]`, which are license keys, names and event payloads: here
 * parameters are never written; a failure is logged with the SQL text (literals blanked), its hash and the
 * error code (see summarizeDatabaseError).
 */
export class DatabaseLogger implements TypeOrmLogger {
  private readonly logger = new NestLogger('Database');

  /** Every statement: not logged (a custom TypeORM logger is called regardless of the `logging` option). */
  logQuery(): void {}

  logQueryError(error: string | Error, query: string): void {
    this.logger.error({ msg: 'query failed', ...summarizeDatabaseError(typeof error === 'string' ? { message: error } : error, query) });
  }

  logQuerySlow(time: number, query: string): void {
    this.logger.warn({ msg: 'slow query', durationMs: time, sql: redactSql(query), sqlHash: sqlHash(query) });
  }

  /** Migration progress and `migration:show`'s list (names only; never SQL, since schema sync is off). */
  logSchemaBuild(message: string): void {
    this.logger.log(message);
  }

  logMigration(message: string): void {
    this.logger.log(message);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    const text = String(message);
    if (level === 'warn') this.logger.warn(text);
    else this.logger.debug(text);
  }
}
