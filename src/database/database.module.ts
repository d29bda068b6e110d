import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig, DatabaseSettings } from '../config/app-config.service';
import { buildDataSourceOptions } from './data-source-options';
import { SqliteCheckpointer } from './sqlite-checkpointer';
import { UnitOfWork } from './unit-of-work';

@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [AppConfig],
      useFactory: async (config: AppConfig) => {
        const db = config.database;
        if (!config.get('DB_MIGRATIONS_RUN')) return buildDataSourceOptions(db);
        if (db.kind === 'postgres' && db.timeouts?.statementMs) {
          await runMigrationsUnbounded(db);
          return buildDataSourceOptions(db);
        }
        return buildDataSourceOptions(db, { migrationsRun: true });
      },
    }),
  ],
  providers: [UnitOfWork, SqliteCheckpointer],
  exports: [UnitOfWork],
})
export class DatabaseModule {}

/**
 * A migration may rightly take longer than DB_STATEMENT_TIMEOUT_MS (an index on a large table), so start-up
 * migrations run on their own connection without the statement timeout, as `npm run migration:run` does.
 */
async function runMigrationsUnbounded(db: DatabaseSettings & { kind: 'postgres' }): Promise<void> {
  const ds = new DataSource(
    buildDataSourceOptions({ ...db, poolSize: 1, timeouts: db.timeouts && { ...db.timeouts, statementMs: 0 } }, { migrationsRun: true }),
  );
  await ds.initialize();
  await ds.destroy();
}
