import { DynamicModule, Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/app-config.service';
import { buildDataSourceOptions, EntityList } from './data-source-options';
import { migrateDatabase } from './migrate';
import { SqliteCheckpointer } from './sqlite-checkpointer';
import { UnitOfWork } from './unit-of-work';

/**
 * The data source and UnitOfWork. Global, like configuration and logging: composition-root plumbing that every
 * module's services use to reach their own tables; which tables a module may touch is the boundary, not this import.
 */
@Global()
@Module({})
export class DatabaseModule {
  /** The entities come from the composition root (src/entities.ts), so this module imports no module's code. */
  static forRoot(entities: EntityList): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          inject: [AppConfig],
          useFactory: async (config: AppConfig) => {
            // Migrations run first, on their own connection, under a lock and without the statement timeout
            // (src/database/migrate.ts); then the app's data source opens on the migrated schema.
            if (config.get('DB_MIGRATIONS_RUN')) await migrateDatabase(config.database);
            return buildDataSourceOptions(config.database, entities);
          },
        }),
      ],
      providers: [UnitOfWork, SqliteCheckpointer],
      exports: [UnitOfWork],
    };
  }
}
