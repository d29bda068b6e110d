import { Global, Inject, MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import * as os from 'node:os';
import type { DestinationStream, Level } from 'pino';
import { pinoHttp, type HttpLogger } from 'pino-http';
import { AppConfig } from '../config/app-config.service';
import { JsonLogger, requestLogs } from './json-logger';
import { redactUrl } from './redact';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** Reuses a sane X-Request-Id from a proxy, otherwise makes one; echoed on the response. */
export function requestId(req: IncomingMessage, res: ServerResponse): string {
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
  res.setHeader('X-Request-Id', id);
  return id;
}

const BOX_PUSH = /^\/box-callbacks\//i;
const QUIET_PATHS = /^\/(metrics|health)(\/|\?|$)/;
const HTTP_LOGGER = Symbol('HTTP_LOGGER');

/** The one pino-http instance: its logger is the root every line derives from. */
export function createHttpLogger(level: string, boxPushes: 'all' | 'errors' = 'all', stream?: DestinationStream): HttpLogger {
  // Cluster workers (WEB_CONCURRENCY > 1, src/cluster.ts) say which one wrote each line.
  const worker = process.env.RH_WORKER_ID;
  return pinoHttp<IncomingMessage, ServerResponse, never>(
    {
      level,
      ...(worker && { base: { pid: process.pid, hostname: os.hostname(), worker: Number(worker) } }),
      genReqId: requestId,
      autoLogging: { ignore: (req: IncomingMessage) => QUIET_PATHS.test(req.url ?? '') },
      customLogLevel: (req: IncomingMessage, res: ServerResponse, err?: Error): Level | 'silent' =>
        err || res.statusCode >= 500
          ? 'error'
          : res.statusCode >= 400
            ? 'warn'
            : // At thousands of pushes a second, a line per accepted push is most of the log volume.
              boxPushes === 'errors' && BOX_PUSH.test((req as { originalUrl?: string }).originalUrl ?? req.url ?? '')
              ? 'silent'
              : 'info',
      serializers: {
        req: (req: { id: unknown; method: string; url: string; remoteAddress?: string }) => ({
          id: req.id,
          method: req.method,
          url: redactUrl(req.url),
          remoteAddress: req.remoteAddress,
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    },
    stream,
  );
}

/**
 * JSON logs through pino with a request id on every line of a request (pino-http's request logger, carried
 * through the request by AsyncLocalStorage). Bodies and headers are never logged (bodies carry images,
 * features and license keys; headers carry API keys), nor query values or a callback secret in the URL
 * (redactUrl). TypeORM logs through here too (src/database/typeorm-logger.ts).
 * Global, like configuration and the database: composition-root plumbing that every module uses and none owns.
 */
@Global()
@Module({
  providers: [
    {
      provide: HTTP_LOGGER,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => createHttpLogger(config.get('LOG_LEVEL'), config.get('LOG_BOX_PUSHES')),
    },
    { provide: JsonLogger, inject: [HTTP_LOGGER], useFactory: (http: HttpLogger) => new JsonLogger(http.logger) },
  ],
  exports: [JsonLogger],
})
export class LoggingModule implements NestModule {
  constructor(@Inject(HTTP_LOGGER) private readonly http: HttpLogger) {}

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(this.http, requestLogs).forRoutes({ path: '{/*splat}', method: RequestMethod.ALL });
  }
}
