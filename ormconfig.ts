import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { databaseSettings } from './src/config/app-config.service';
import { validateEnvironment } from './src/config/environment';
import { buildDataSourceOptions } from './src/database/data-source-options';
import { entities } from './src/entities';

// The data source the TypeORM CLI uses (npm run migration:run / migration:revert / migration:show),
// configured from the same environment variables as the app.
const env = validateEnvironment(process.env);
export default new DataSource(
  buildDataSourceOptions(databaseSettings(env.DATABASE_URL, env.DATA_DIR, env.SQLITE_PATH, env.DB_POOL_SIZE), entities),
);
