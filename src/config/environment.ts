import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  validateSync,
} from 'class-validator';

const toBool = ({ value }: { value: unknown }) =>
  typeof value === 'string' ? ['1', 'true', 'yes', 'on'].includes(value.trim().toLowerCase()) : value;
const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && value.trim() !== '' ? Number(value) : value;

/**
 * Every setting the platform reads from the environment, with its default.
 * Validated once at start-up so a typo fails fast with the variable named.
 */
export class Environment {
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: 'development' | 'production' | 'test' = 'development';

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  @IsIn(['silent', 'error', 'warn', 'info', 'debug'])
  LOG_LEVEL: 'silent' | 'error' | 'warn' | 'info' | 'debug' = 'info';

  @IsString()
  HOST = '0.0.0.0';

  /** Root for the embedded database and the image store. */
  @IsString()
  DATA_DIR = './data';

  /** postgres://… selects PostgreSQL; unset means embedded SQLite under DATA_DIR. */
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\//, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL?: string;

  /** SQLite file; defaults to DATA_DIR/recognition-hub.sqlite. */
  @IsOptional()
  @IsString()
  SQLITE_PATH?: string;

  /** Apply pending migrations at start-up (turn off when a deploy step runs them). */
  @Transform(toBool)
  @IsBoolean()
  DB_MIGRATIONS_RUN = true;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(200)
  DB_POOL_SIZE = 10;

  /** Image store directory; defaults to DATA_DIR/images. Share it between instances. */
  @IsOptional()
  @IsString()
  IMAGE_DIR?: string;

  /** Largest request body accepted, e.g. 32mb. */
  @Matches(/^\d+(b|kb|mb|gb)?$/i, { message: 'BODY_LIMIT must look like 32mb' })
  BODY_LIMIT = '32mb';

  /** Largest decoded image accepted; a larger one is recorded as a defect, not stored. */
  @Transform(toInt)
  @IsInt()
  @Min(1024)
  IMAGE_MAX_BYTES = 16 * 1024 * 1024;

  /** Express "trust proxy" setting, so box source addresses are right behind a load balancer. */
  @IsOptional()
  @IsString()
  TRUST_PROXY?: string;

  /** How often the outbox relay looks for due events written by any instance. */
  @Transform(toInt)
  @IsInt()
  @Min(10)
  OUTBOX_POLL_INTERVAL_MS = 1000;

  /** Off keeps events in the outbox (another instance, or a later start, relays them). */
  @Transform(toBool)
  @IsBoolean()
  OUTBOX_RELAY_ENABLED = true;

  /** How long a claimed event is reserved before another instance may take it over. */
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  OUTBOX_LEASE_MS = 60_000;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  OUTBOX_MAX_BACKOFF_MS = 300_000;
}

export function validateEnvironment(raw: Record<string, unknown>): Environment {
  const env = plainToInstance(Environment, raw, { exposeDefaultValues: true });
  const errors = validateSync(env, { whitelist: false, forbidUnknownValues: false });
  if (errors.length > 0) {
    const lines = errors.map((e) => `  ${e.property}: ${Object.values(e.constraints ?? {}).join(', ')}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return env;
}
