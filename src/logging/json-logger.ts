import type { LoggerService } from '@nestjs/common';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger as Pino } from 'pino';

type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

const requestLogger = new AsyncLocalStorage<Pino>();

/** Middleware after pino-http: the rest of the request logs through the request's logger (its id on every line). */
export function requestLogs(req: IncomingMessage & { log?: Pino }, _res: ServerResponse, next: () => void): void {
  if (req.log) requestLogger.run(req.log, next);
  else next();
}

/**
 * Nest's LoggerService on pino: `Logger.log(message, context)` becomes `{"context":…,"msg":…}` on the request's
 * logger inside a request, on the root logger elsewhere.
 */
export class JsonLogger implements LoggerService {
  constructor(private readonly root: Pino) {}

  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('trace', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }

  private write(level: Level, message: unknown, rest: unknown[]): void {
    const logger = requestLogger.getStore() ?? this.root;
    // Nest passes the context last; anything between message and context is extra.
    const fields: Record<string, unknown> = {};
    let extra = rest;
    if (rest.length > 0) {
      fields.context = rest[rest.length - 1];
      extra = rest.slice(0, -1);
    }
    if (message instanceof Error) {
      fields.err = message;
      logger[level](fields, ...(extra as []));
    } else if (message && typeof message === 'object') {
      logger[level]({ ...fields, ...message }, ...(extra as []));
    } else if (
      level === 'error' &&
      typeof message === 'string' &&
      extra.length === 1 &&
      typeof extra[0] === 'string' &&
      /\n\s*at /.test(extra[0])
    ) {
      // Nest's own exception handlers call error(message, stack, context).
      const err = new Error(message);
      err.stack = extra[0];
      logger.error({ ...fields, err });
    } else {
      logger[level](fields, String(message), ...(extra as []));
    }
  }
}
