import { createHash } from 'node:crypto';

/**
 * Database errors as logs may show them. A failed query's parameters hold license keys, names and event
 * payloads, and driver messages quote values too (`invalid input syntax for type uuid: "…"`, a CHECK
 * violation's detail lists the whole row), so only the SQL text (string literals blanked), a hash of it,
 * the error code and the schema names the driver reports are kept; quoted parts of the message are blanked.
 */
export interface DatabaseErrorSummary {
  /** SQLSTATE on PostgreSQL, SQLITE_* on SQLite, a Node network code, or the error's class name. */
  code: string;
  message: string;
  table?: string;
  column?: string;
  constraint?: string;
  sql?: string;
  sqlHash?: string;
}

interface DriverErrorLike {
  name?: string;
  code?: unknown;
  message?: unknown;
  table?: unknown;
  column?: unknown;
  constraint?: unknown;
  driverError?: unknown;
  query?: unknown;
  cause?: unknown;
}

const MAX_SQL = 1000;

export function summarizeDatabaseError(error: unknown, sql?: string): DatabaseErrorSummary {
  const e = driverError(error);
  const name = (error as DriverErrorLike | null)?.name;
  const text = (x: unknown) => (typeof x === 'string' && x ? x : undefined);
  const query = sql ?? text((error as DriverErrorLike | null)?.query);
  return {
    code: text(e?.code) ?? text(e?.name) ?? text(name) ?? 'unknown',
    message: blankQuoted(text(e?.message) ?? String(e ?? error)),
    ...(text(e?.table) && { table: text(e?.table) }),
    ...(text(e?.column) && { column: text(e?.column) }),
    ...(text(e?.constraint) && { constraint: text(e?.constraint) }),
    ...(query && { sql: redactSql(query), sqlHash: sqlHash(query) }),
  };
}

/** SQL with its string literals blanked and cut to a readable length; placeholders ($1, ?) stay. */
export function redactSql(sql: string): string {
  const blanked = sql
    .replace(/'(?:[^']|'')*'/g, "'…'")
    .replace(/\s+/g, ' ')
    .trim();
  return blanked.length > MAX_SQL ? `${blanked.slice(0, MAX_SQL)}…` : blanked;
}

/** Groups log lines of one statement, however it was cut. */
export function sqlHash(sql: string): string {
  return createHash('sha256').update(sql).digest('hex').slice(0, 12);
}

/** Driver messages quote values ("…" on PostgreSQL, '…' in some); identifiers quoted alike go too (table/column say them). */
function blankQuoted(message: string): string {
  return message
    .replace(/"(?:[^"\\]|\\.)*"/g, '"…"')
    .replace(/'(?:[^'\\]|\\.)*'/g, "'…'")
    .replace(/\(([^()]*)\)=\(([^()]*)\)/g, '($1)=(…)')
    .slice(0, 300);
}

/** The driver's error behind TypeORM's QueryFailedError (or the error itself). */
function driverError(error: unknown): DriverErrorLike | undefined {
  if (!error || typeof error !== 'object') return undefined;
  const e = error as DriverErrorLike;
  return (e.driverError as DriverErrorLike | undefined) ?? e;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
/** SQLSTATEs that say "try again later", not "this input is wrong". */
const TRANSIENT_SQLSTATES = new Set([
  '57014', // query_canceled: statement_timeout
  '57P01',
  '57P02',
  '57P03', // server shutting down, or not yet accepting connections
  '55P03', // lock_not_available: lock_timeout
  '25P03', // idle_in_transaction_session_timeout
  '40001',
  '40P01', // serialization failure, deadlock (still failing after UnitOfWork's retries)
  '53300', // too_many_connections
]);
/** node-postgres signals a lost or silent server by message only. */
const PG_CONNECTION_MESSAGES =
  /^(Query read timeout|Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed|Connection closed)/;

/**
 * True when the error says the database cannot be reached or is too busy right now, so the request may
 * succeed later: the caller gets 503 with Retry-After (a box keeps the event and retries) instead of a 500.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 4; depth++) {
    const { code, message } = e as DriverErrorLike;
    if (typeof code === 'string') {
      if (NETWORK_CODES.has(code) || TRANSIENT_SQLSTATES.has(code)) return true;
      if (code.startsWith('08')) return true; // connection exception
      if (/^SQLITE_(BUSY|LOCKED)/.test(code)) return true; // lock still held after busy_timeout
    }
    if (typeof message === 'string' && PG_CONNECTION_MESSAGES.test(message)) return true;
    const next = e as DriverErrorLike;
    e = next.driverError ?? next.cause;
  }
  return false;
}
