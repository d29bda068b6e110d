import { plainToInstance, Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsNumber, IsOptional, IsString, Matches, Max, Min, validateSync, ValidateBy } from 'class-validator';
import { parseNetworkRules } from './ip-networks';

/**
 * Link-local addresses (169.254.0.0/16 also holds the AWS, GCP, Azure and Oracle metadata service) and the
 * other clouds' metadata addresses are refused; everything else, loopback and private networks included
 * (on-premises receivers), is allowed.
 */
export const DEFAULT_WEBHOOK_ALLOWED_NETWORKS = '!169.254.0.0/16,!fe80::/10,!fd00:ec2::254,!100.100.100.200,0.0.0.0/0,::/0';

const toBool = ({ value }: { value: unknown }) =>
  typeof value === 'string' ? ['1', 'true', 'yes', 'on'].includes(value.trim().toLowerCase()) : value;
const toInt = ({ value }: { value: unknown }) => (typeof value === 'string' && value.trim() !== '' ? Number(value) : value);

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

  /** Access log lines for box pushes: `all` (one info line per push) or `errors` (only pushes answered 4xx/5xx). */
  @IsIn(['all', 'errors'])
  LOG_BOX_PUSHES: 'all' | 'errors' = 'all';

  /** Days recognition records keep their images (and features stay); 0 keeps them forever. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  RETENTION_IMAGE_DAYS = 0;

  /** Days recognition records are kept at all; 0 keeps them forever. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  RETENTION_RECORD_DAYS = 0;

  /** How often the retention purge runs (when a retention is set). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  RETENTION_PURGE_INTERVAL_MINUTES = 60;

  /** Rows per purge transaction: small batches keep ingest flowing beside the purge. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(10_000)
  RETENTION_BATCH_SIZE = 500;

  /** Readiness fails when the oldest unrelayed outbox event is older than this. */
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  HEALTH_OUTBOX_MAX_LAG_MS = 300_000;

  /** Each /health/ready check (database, image store, outbox) is reported down when it takes longer than this. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  HEALTH_CHECK_TIMEOUT_MS = 3000;

  /** Longest a graceful shutdown waits for in-flight requests and the outbox drain. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  SHUTDOWN_TIMEOUT_MS = 30_000;

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

  /**
   * HTTP worker processes (Node cluster) sharing the port. Unset: one per two cores (at least one) on PostgreSQL, 1 on SQLite (one
   * process owns the SQLite file; a larger value is ignored there with a warning).
   */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(64)
  WEB_CONCURRENCY?: number;

  /** Apply pending migrations at start-up (turn off when a deploy step runs them). */
  @Transform(toBool)
  @IsBoolean()
  DB_MIGRATIONS_RUN = true;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(200)
  DB_POOL_SIZE = 10;

  /** Longest wait for a PostgreSQL connection (a new one, or a free one from the pool). */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  DB_CONNECT_TIMEOUT_MS = 5000;

  /** Longest a PostgreSQL statement of the running app may take (server- and client-side); 0 = no limit. Migrations are exempt. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  DB_STATEMENT_TIMEOUT_MS = 15_000;

  /** Image store directory; defaults to DATA_DIR/images. Share it between instances. */
  @IsOptional()
  @IsString()
  IMAGE_DIR?: string;

  /** Threads that write (hash, write, fsync) incoming images off the event loop. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(64)
  IMAGE_WRITE_THREADS = 4;

  /** Largest box push body accepted (/box-callbacks/…), e.g. 32mb. */
  @Matches(/^\d+(b|kb|mb|gb)?$/i, { message: 'BODY_LIMIT must look like 32mb' })
  BODY_LIMIT = '32mb';

  /** Largest REST request body accepted (every route but /box-callbacks/…). */
  @Matches(/^\d+(b|kb|mb|gb)?$/i, { message: 'API_BODY_LIMIT must look like 1mb' })
  API_BODY_LIMIT = '1mb';

  /** Cosine similarity at or above which a new identity's first face joins the most similar person automatically. */
  @Transform(toInt)
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(-1)
  @Max(1)
  PERSON_LINK_THRESHOLD = 0.5;

  /** Cosine similarity from which (up to PERSON_LINK_THRESHOLD) a match becomes a suggestion for an operator. */
  @Transform(toInt)
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(-1)
  @Max(1)
  PERSON_SUGGEST_THRESHOLD = 0.35;

  /** Largest decoded image accepted; a larger one is recorded as a defect, not stored. */
  @Transform(toInt)
  @IsInt()
  @Min(1024)
  IMAGE_MAX_BYTES = 16 * 1024 * 1024;

  /** open: unknown boxes are registered on first push; registered: only boxes already known (and enabled). */
  @IsIn(['open', 'registered'])
  BOX_AUTH_MODE: 'open' | 'registered' = 'open';

  /** Box pushes parsed and stored at once, counted once their body has arrived; beyond it 503 with Retry-After. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  INGEST_MAX_IN_FLIGHT = 64;

  /** Most boxes that get series of their own in per-box metrics; later ones are labelled "other". */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  METRICS_MAX_BOX_LABELS = 1000;

  /** Box bodies being received at once; beyond it 503 (a body takes an in-flight place only once it has arrived). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  INGEST_MAX_UPLOADS = 128;

  /** Box bodies being received at once from one client address; beyond it 429. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  INGEST_MAX_UPLOADS_PER_ADDRESS = 32;

  /** How long a box body may take before the minimum rate applies. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  INGEST_BODY_GRACE_MS = 10_000;

  /** After the grace period a body must have averaged at least this since its request began, or it gets 408; 0 turns it off. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  INGEST_BODY_MIN_BYTES_PER_SECOND = 1024;

  /** Failed box authentications (401) per client address and minute before its pushes get 429; 0 turns it off. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  BOX_AUTH_FAILURES_PER_MINUTE = 60;

  /** Open connections per client address (only without TRUST_PROXY); more are closed at once. 0 turns it off. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  HTTP_MAX_CONNECTIONS_PER_ADDRESS = 128;

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

  /** Outbox rows one relay pass claims at a time; smaller batches spread a backlog over more instances. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1000)
  OUTBOX_BATCH_SIZE = 100;

  /** Optional bootstrap admin key for the REST API (create real keys with it, then unset it). */
  @IsOptional()
  @IsString()
  @Matches(/^.{32,}$/, { message: 'ADMIN_API_KEY must be at least 32 characters' })
  ADMIN_API_KEY?: string;

  /** REST requests per minute per API key (per address without a key), per instance; 0 turns the limit off. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  API_RATE_LIMIT_PER_MINUTE = 1200;

  /** Wrong API keys per client address and minute before its requests get 429 (valid key or not); 0 turns it off. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  API_AUTH_FAILURES_PER_MINUTE = 30;
  // --- Integrations (src/integrations): live event stream and outbound webhooks ---

  /** Absolute base URL consumers reach the hub at, for image links in events (e.g. https://hub.example.com). */
  @IsOptional()
  @Matches(/^https?:\/\/[^\s]+[^/\s]$/, { message: 'PUBLIC_BASE_URL must be an http(s) URL without a trailing slash' })
  PUBLIC_BASE_URL?: string;

  /** How often /events/stream reads new outbox rows (events committed by any instance). */
  @Transform(toInt)
  @IsInt()
  @Min(10)
  EVENT_STREAM_POLL_MS = 500;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  EVENT_STREAM_HEARTBEAT_MS = 15_000;

  /** How long the stream waits for a missing outbox id (a transaction not yet committed) before skipping it. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  EVENT_STREAM_GAP_GRACE_MS = 10_000;

  @Transform(toBool)
  @IsBoolean()
  WEBHOOK_DISPATCH_ENABLED = true;

  @Transform(toInt)
  @IsInt()
  @Min(10)
  WEBHOOK_POLL_INTERVAL_MS = 1000;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  WEBHOOK_TIMEOUT_MS = 10_000;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100)
  WEBHOOK_MAX_ATTEMPTS = 8;

  /** First retry delay; doubles per failed attempt up to WEBHOOK_MAX_BACKOFF_MS. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  WEBHOOK_BACKOFF_BASE_MS = 5000;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  WEBHOOK_MAX_BACKOFF_MS = 3_600_000;

  /** Deliveries in flight at once per instance (each to a different subscription). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(200)
  WEBHOOK_CONCURRENCY = 16;

  /** Where webhooks may connect: CIDRs, "!" refuses, first match decides (see src/config/ip-networks.ts). */
  @IsString()
  @ValidNetworkRules()
  WEBHOOK_ALLOWED_NETWORKS = DEFAULT_WEBHOOK_ALLOWED_NETWORKS;

  // --- Message brokers (src/brokers): domain events on MQTT and AMQP 0-9-1 ---

  /** mqtt(s)://[user:password@]host[:port] turns MQTT publishing on; unset leaves it off. */
  @IsOptional()
  @Matches(/^(mqtts?|wss?):\/\/[^\s]+$/, { message: 'MQTT_URL must be an mqtt://, mqtts://, ws:// or wss:// URL' })
  MQTT_URL?: string;

  /** Topics are <prefix>/events/<type>, <prefix>/cameras/<media device id>/last and <prefix>/availability. */
  @Matches(/^[^#+\s]+$/, { message: 'MQTT_TOPIC_PREFIX must be a topic without wildcards (+, #) or spaces' })
  MQTT_TOPIC_PREFIX = 'recognition-hub';

  /** amqp(s)://[user:password@]host[:port][/vhost] turns AMQP publishing on; unset leaves it off. */
  @IsOptional()
  @Matches(/^amqps?:\/\/[^\s]+$/, { message: 'AMQP_URL must be an amqp:// or amqps:// URL' })
  AMQP_URL?: string;

  /** Durable topic exchange the events go to (declared by the hub), routing key = event type. */
  @Matches(/^[\w.:-]{1,255}$/, { message: 'AMQP_EXCHANGE must be letters, digits, ".", "_", ":" or "-"' })
  AMQP_EXCHANGE = 'recognition-hub.events';

  /** How often each broker stream looks for new outbox events (events relayed on this instance wake it at once). */
  @Transform(toInt)
  @IsInt()
  @Min(10)
  BROKER_POLL_INTERVAL_MS = 1000;

  /** How long the instance publishing a broker stream holds it before another instance may take over. */
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  BROKER_LEASE_MS = 30_000;

  /** Longest wait for the broker to confirm a batch (PUBACK / publisher confirm) before it is sent again. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  BROKER_PUBLISH_TIMEOUT_MS = 10_000;

  /** Reconnect delay after a broker connection failed; doubles per failure up to this. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  BROKER_RECONNECT_MAX_MS = 30_000;

  /** Face search (src/face-search): keep a vector index of every record's feature. Off: no index, search answers 503. */
  @Transform(toBool)
  @IsBoolean()
  FACE_SEARCH_ENABLED = true;

  /** Default minSimilarity (cosine) of POST /faces/search. */
  @Transform(toInt)
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(-1)
  @Max(1)
  FACE_SEARCH_MIN_SIMILARITY = 0.4;

  /** Where the face index snapshot is kept; defaults to DATA_DIR/face-index. May be shared by instances. */
  @IsOptional()
  @IsString()
  FACE_SEARCH_SNAPSHOT_DIR?: string;

  /** How often the index is written to its snapshot when it changed; 0 writes it only at shutdown. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  FACE_SEARCH_SNAPSHOT_INTERVAL_MS = 600_000;

  /** How often the index reads records stored by any instance (from the outbox). */
  @Transform(toInt)
  @IsInt()
  @Min(50)
  FACE_SEARCH_POLL_MS = 1000;

  /** Vectors in the index: i8 (512 B each), f16 or f32; similarities returned are always exact. */
  @IsIn(['i8', 'f16', 'f32'])
  FACE_SEARCH_QUANTIZATION: 'i8' | 'f16' | 'f32' = 'i8';

  /** HNSW graph degree (M). */
  @Transform(toInt)
  @IsInt()
  @Min(4)
  @Max(64)
  FACE_SEARCH_CONNECTIVITY = 16;

  /** HNSW ef at insert time (64: half the build time of 128, the same recall with a wide search). */
  @Transform(toInt)
  @IsInt()
  @Min(8)
  @Max(1024)
  FACE_SEARCH_EXPANSION_ADD = 64;

  /** HNSW ef at search time: how many neighbours the graph walk gathers before the nearest are re-ranked exactly. */
  @Transform(toInt)
  @IsInt()
  @Min(8)
  @Max(4096)
  FACE_SEARCH_EXPANSION_SEARCH = 2048;

  /**
   * A search admitting up to this many vectors (the whole index without a filter) scans them from the in-memory
   * copies (sign codes, then i8 rows; see FACE_SEARCH_SHORTLIST) instead of walking the graph. The graph is built
   * (in the background) only once the index holds more than this many vectors.
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(100_000_000)
  // Up to 1,000,000 a search scans: the graph walk missed 18% of real matches at that size (README, Performance).
  FACE_SEARCH_EXACT_BELOW = 1_000_000;

  /**
   * A scan admitting more vectors than this first shortlists this many by their 1-bit sign codes (64 bytes a
   * vector) and scores only those from the i8 copy; 0 scores every admitted vector. At 1,000,000 synthetic vectors,
   * 10,000 kept recall@10 at 0.985 (1.000 for one box of 20) for about a third of the CPU (README, Performance).
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(10_000_000)
  FACE_SEARCH_SHORTLIST = 10_000;

  /** IANA time zone of alert rule schedules that name none (e.g. Europe/Berlin). */
  @IsString()
  @ValidTimeZone()
  ALERT_TIME_ZONE = 'UTC';
}

function ValidTimeZone() {
  return ValidateBy({
    name: 'validTimeZone',
    validator: {
      validate: (value: unknown) => {
        if (typeof value !== 'string' || value === '') return false;
        try {
          new Intl.DateTimeFormat('en', { timeZone: value });
          return true;
        } catch {
          return false;
        }
      },
      defaultMessage: () => 'must be an IANA time zone such as Europe/Berlin or UTC',
    },
  });
}

function ValidNetworkRules() {
  return ValidateBy({
    name: 'validNetworkRules',
    validator: {
      validate: (value: unknown) => {
        try {
          parseNetworkRules(String(value));
          return true;
        } catch {
          return false;
        }
      },
      defaultMessage: (args) => {
        try {
          parseNetworkRules(String(args?.value));
          return '';
        } catch (e) {
          return `${(e as Error).message} (comma-separated CIDRs, "!" in front to refuse one)`;
        }
      },
    },
  });
}

/** Variables whose value must never be echoed (a key, a URL that may carry a password). */
const SECRET_VARIABLES = new Set(['ADMIN_API_KEY', 'DATABASE_URL', 'MQTT_URL', 'AMQP_URL']);

/** A configuration that cannot start the hub; `problems` has one line per bad variable. */
export class ConfigurationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

/**
 * One line per bad variable, e.g. `PORT: must be an integer number, must not be greater than 65535 (got "abc")`.
 * Secret values are never repeated.
 */
export function environmentProblems(raw: Record<string, unknown>): string[] {
  const env = plainToInstance(Environment, raw, { exposeDefaultValues: true });
  const errors = validateSync(env, { whitelist: false, forbidUnknownValues: false });
  return errors.map((e) => {
    // class-validator reports the decorators bottom-up; reversed, they read in declaration order.
    const rules = Object.values(e.constraints ?? {})
      .reverse()
      .map((m) => (m.startsWith(`${e.property} `) ? m.slice(e.property.length + 1) : m));
    const given = raw[e.property];
    const shown = SECRET_VARIABLES.has(e.property) || given === undefined ? '' : ` (got ${JSON.stringify(String(given).slice(0, 80))})`;
    return `${e.property}: ${rules.join(', ')}${shown}`;
  });
}

export function validateEnvironment(raw: Record<string, unknown>): Environment {
  const problems = environmentProblems(raw);
  if (problems.length > 0) throw new ConfigurationError(problems);
  return plainToInstance(Environment, raw, { exposeDefaultValues: true });
}
