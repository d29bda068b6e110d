import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import * as path from 'node:path';
import { Environment } from './environment';

export type DatabaseSettings =
  { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string; poolSize: number; timeouts?: DatabaseTimeouts };

/** PostgreSQL waits that must end, so a silent or refusing server makes requests fail fast (0 = no statement limit). */
export interface DatabaseTimeouts {
  connectMs: number;
  statementMs: number;
}

/** Typed view of the validated environment, with derived paths resolved. */
@Injectable()
export class AppConfig {
  constructor(private readonly config: ConfigService<Environment, true>) {}

  get<K extends keyof Environment>(key: K): Environment[K] {
    return this.config.get(key, { infer: true });
  }

  get dataDir(): string {
    return path.resolve(this.get('DATA_DIR'));
  }

  get imageDir(): string {
    return path.resolve(this.get('IMAGE_DIR') ?? path.join(this.dataDir, 'images'));
  }

  get database(): DatabaseSettings {
    return databaseSettings(this.config.get('DATABASE_URL'), this.dataDir, this.config.get('SQLITE_PATH'), this.get('DB_POOL_SIZE'), {
      connectMs: this.get('DB_CONNECT_TIMEOUT_MS'),
      statementMs: this.get('DB_STATEMENT_TIMEOUT_MS'),
    });
  }
}

export function databaseSettings(
  url: string | undefined,
  dataDir: string,
  sqlitePath: string | undefined,
  poolSize: number,
  timeouts?: DatabaseTimeouts,
): DatabaseSettings {
  if (url) return { kind: 'postgres', url, poolSize, ...(timeouts && { timeouts }) };
  return { kind: 'sqlite', path: path.resolve(sqlitePath ?? path.join(dataDir, 'recognition-hub.sqlite')) };
}
