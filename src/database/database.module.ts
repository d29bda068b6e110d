import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/app-config.service';
import { buildDataSourceOptions } from './data-source-options';
import { SqliteCheckpointer } from './sqlite-checkpointer';
import { UnitOfWork } from './unit-of-work';

@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) =>
        buildDataSourceOptions(config.database, { migrationsRun: config.get('DB_MIGRATIONS_RUN') }),
    }),
  ],
  providers: [UnitOfWork, SqliteCheckpointer],
  exports: [UnitOfWork],
})
export class DatabaseModule {}
