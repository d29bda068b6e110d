import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config.service';
import { buildDataSourceOptions } from './data-source-options';
import { openDataSource } from './migrate';
import { SqliteCheckpointer } from './sqlite-checkpointer';
import { UnitOfWork } from './unit-of-work';

@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) =>
        buildDataSourceOptions(config.database, { migrationsRun: config.get('DB_MIGRATIONS_RUN') }),
      // Migrations run here, under a lock (src/database/migrate.ts), rather than by TypeORM's own migrationsRun.
      dataSourceFactory: async (options) => openDataSource(new DataSource({ ...options!, migrationsRun: false }), options!.migrationsRun === true),
    }),
  ],
  providers: [UnitOfWork, SqliteCheckpointer],
  exports: [UnitOfWork],
})
export class DatabaseModule {}
