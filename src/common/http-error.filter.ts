import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { DomainError, DomainErrorKind } from './domain-error';
import { isStorageFull, STORAGE_FULL_RETRY_AFTER_SECONDS } from './storage-full';
import { isDatabaseUnavailable, summarizeDatabaseError } from '../database/database-errors';

interface BodyParserError {
  type?: string;
  status?: number;
  expose?: boolean;
}

/** Seconds a caller is told to wait while the database is unreachable or busy; boxes retry every few seconds anyway. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

const BODY_PARSER_ERRORS: Record<string, { status: number; code: string; message: string }> = {
  'entity.parse.failed': { status: 400, code: 'invalid_json', message: 'body is not valid JSON' },
  'entity.too.large': { status: 413, code: 'payload_too_large', message: 'body is larger than the configured limit' },
  'encoding.unsupported': { status: 415, code: 'unsupported_encoding', message: 'unsupported Content-Encoding' },
  'charset.unsupported': { status: 415, code: 'unsupported_charset', message: 'unsupported charset' },
  'request.aborted': { status: 400, code: 'request_aborted', message: 'request aborted' },
  'request.size.invalid': { status: 400, code: 'body_length_mismatch', message: 'request size did not match Content-Length' },
};

/** The one place a domain error's kind becomes an HTTP status. */
export const DOMAIN_ERROR_STATUS: Record<DomainErrorKind, number> = {
  invalid: HttpStatus.BAD_REQUEST,
  unauthenticated: HttpStatus.UNAUTHORIZED,
  forbidden: HttpStatus.FORBIDDEN,
  not_found: HttpStatus.NOT_FOUND,
  // Not yet able to answer (an index still loading): the client may retry.
  unavailable: HttpStatus.SERVICE_UNAVAILABLE,
};

/**
 * The code of an HTTP error raised without one (validation pipes, guards, the throttler, unknown routes, edge
 * middleware). Other statuses get their name in snake_case (413 payload_too_large, 415 unsupported_media_type).
 */
const STATUS_CODES: Partial<Record<number, string>> = {
  400: 'invalid_input',
  401: 'unauthenticated',
  429: 'rate_limited',
  500: 'internal_error',
  503: 'unavailable',
};

export function defaultErrorCode(status: number): string {
  return STATUS_CODES[status] ?? (HttpStatus[status] as string | undefined)?.toLowerCase() ?? 'error';
}

/**
 * One JSON error shape for everything: {statusCode, error, code, message[, field]}; `code` is a stable snake_case
 * string (README, REST API: Error codes). Never echoes request data (which may hold images or features); unexpected
 * errors are logged with their stack and answered with a generic 500.
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpError');

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (res.headersSent) return;
    const { status, body, retryAfter } = this.describe(exception);
    if (retryAfter !== undefined) res.setHeader('Retry-After', String(retryAfter));
    res.status(status).json(body);
  }

  private storageFullSince = 0;
  private storageFullCount = 0;

  /** Every push fails while the disk is full: one log line a minute, with the count, rather than one per push. */
  private logStorageFull(exception: unknown): void {
    this.storageFullCount++;
    if (Date.now() - this.storageFullSince >= 60_000) {
      this.logger.error(`storage full, ${this.storageFullCount} write(s) refused with 503: ${(exception as Error)?.message ?? exception}`);
      this.storageFullSince = Date.now();
      this.storageFullCount = 0;
    }
  }

  /** The answer to an error; `retryAfter` (seconds) when the same request can succeed later (503). */
  describe(exception: unknown): { status: number; body: Record<string, unknown>; retryAfter?: number } {
    if (isStorageFull(exception)) {
      // Nothing was stored and the same write can succeed once space returns: 503, and the box retries.
      this.logStorageFull(exception);
      return {
        status: HttpStatus.SERVICE_UNAVAILABLE,
        body: {
          statusCode: 503,
          error: 'Service Unavailable',
          code: 'storage_full',
          message: 'storage is full: nothing was stored; retry later',
          reason: 'storage_full',
        },
        retryAfter: STORAGE_FULL_RETRY_AFTER_SECONDS,
      };
    }
    if (exception instanceof DomainError) {
      const status = DOMAIN_ERROR_STATUS[exception.kind];
      const { code, message, field, extra } = exception;
      return {
        status,
        body: { statusCode: status, error: errorName(status), code, message, ...(field !== undefined && { field }), ...extra },
      };
    }
    // Express parser errors arrive wrapped (cause) or raw; their messages quote the body, so use ours.
    const bp = ((exception as { cause?: unknown })?.cause ?? exception) as BodyParserError;
    if (bp && typeof bp.type === 'string' && BODY_PARSER_ERRORS[bp.type]) {
      const { status, code, message } = BODY_PARSER_ERRORS[bp.type];
      return { status, body: { statusCode: status, error: errorName(status), code, message, field: 'body' } };
    }
    if (exception instanceof HttpException) {
      // Raised at the edge (pipes, guards, middleware, the framework); it may name its own code.
      const status = exception.getStatus();
      const r = exception.getResponse();
      const body = typeof r === 'string' ? { message: r } : { ...(r as Record<string, unknown>) };
      return { status, body: { statusCode: status, error: errorName(status), code: defaultErrorCode(status), ...body } };
    }
    if (isDatabaseUnavailable(exception)) {
      // Down, silent or locked: the request may succeed later, so 503 (a box keeps the event and retries).
      this.logger.warn({ msg: 'database unavailable', ...summarizeDatabaseError(exception) });
      return {
        status: HttpStatus.SERVICE_UNAVAILABLE,
        body: {
          statusCode: 503,
          error: 'Service Unavailable',
          code: 'database_unavailable',
          message: 'database unavailable; retry later',
          reason: 'database',
        },
        retryAfter: DATABASE_RETRY_AFTER_SECONDS,
      };
    }
    if (exception && typeof exception === 'object' && 'driverError' in exception) {
      // A failed query's message may quote the values it was given: log its code and SQL, and the stack frames.
      const frames = ((exception as { stack?: string }).stack ?? '').split('\n').slice(1).join('\n');
      this.logger.error({ msg: 'query failed', ...summarizeDatabaseError(exception), stack: frames });
    } else this.logger.error((exception as Error)?.stack ?? String(exception));
    return {
      status: HttpStatus.INTERNAL_SERVER_ERROR,
      body: { statusCode: 500, error: 'Internal Server Error', code: 'internal_error', message: 'internal error' },
    };
  }
}

function errorName(status: number): string {
  const name = HttpStatus[status];
  return name
    ? name
        .toLowerCase()
        .split('_')
        .map((w) => w[0].toUpperCase() + w.slice(1))
        .join(' ')
    : 'Error';
}
