import { NestFactory } from '@nestjs/core';
import helmet from 'helmet';
import { raw } from 'express';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule, AppModuleOptions } from './app.module';
import { AppConfig } from './config/app-config.service';
import { setupOpenApi } from './openapi';
import { bodyRateGuard } from './common/body-rate';
import { jsonBody } from './common/json-body';
import {
  BOX_LIFTED_KEYS,
  BOX_PUSH_ROUTE,
  contentLengthGuard,
  IngestGate,
  jsonBytesCheck,
  jsonShapeGuard,
  parseByteLimit,
} from './box-callbacks/box-callbacks.module';
import { limitConnectionsPerAddress } from './common/connection-limit';
import { JsonLogger } from './logging/json-logger';
import { MetricsService } from './metrics/metrics.service';

/** Builds the application exactly as production runs it; tests use it too. */
export async function createApp(options: AppModuleOptions = {}): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(options), {
    bodyParser: false,
    // Start-up logs wait for the JSON logger (src/logging), which honours LOG_LEVEL.
    bufferLogs: true,
  });
  app.useLogger(app.get(JsonLogger));
  configureApp(app);
  return app;
}

/** Matches as Express mounts '/box-callbacks' (case-insensitive), so the route and its limits always agree. */
const BOX_ROUTE = /^\/box-callbacks(?:\/|$)/i;

function byRoute(box: RequestHandler, api: RequestHandler, route = BOX_ROUTE): RequestHandler {
  return (req, res, next) => (route.test(req.path) ? box : api)(req, res, next);
}

export function configureApp(app: NestExpressApplication): void {
  const config = app.get(AppConfig);
  const trustProxy = config.get('TRUST_PROXY');
  if (trustProxy) app.set('trust proxy', /^\d+$/.test(trustProxy) ? Number(trustProxy) : trustProxy);
  // Behind a proxy every client arrives from the proxy's address: then only the per-client limits below apply.
  const connectionsPerAddress = config.get('HTTP_MAX_CONNECTIONS_PER_ADDRESS');
  if (!trustProxy && connectionsPerAddress > 0) limitConnectionsPerAddress(app.getHttpServer(), connectionsPerAddress);
  // Standard security headers for the REST API and /docs (Swagger UI loads only same-origin scripts). Boxes read
  // nothing but the status code, so their route skips the dozen browser-only headers.
  const securityHeaders = helmet();
  // Swagger UI previews binary answers (images) through blob: URLs: only the /docs page allows them.
  const docsHeaders = helmet({ contentSecurityPolicy: { directives: { imgSrc: ["'self'", 'data:', 'blob:'] } } });
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (req.path.startsWith('/box-callbacks/')) return next();
    return (req.path === '/docs' || req.path.startsWith('/docs/') ? docsHeaders : securityHeaders)(req, res, next);
  });
  // First, so refusals by any later layer (gate, size checks, parser, guards) are counted and timed.
  app.use('/box-callbacks', app.get(MetricsService).boxEdgeMiddleware());
  app.use(app.get(MetricsService).httpMiddleware());
  // Hostile-input defences around the JSON parser (src/box-callbacks/hostile-input.ts): the upload caps, the
  // minimum body rate and the declared-size check apply before a body is read, the in-flight cap once it has
  // arrived (src/box-callbacks/ingest-gate.ts); compressed bodies get 415 (inflate: false), so the
  // limit bounds what is held in memory; over-deep or prototype-poisoning JSON gets 400 before any code walks it.
  const gate = IngestGate.fromConfig(config);
  app.use('/box-callbacks', gate.beforeBody());
  // Every body (box push or REST) keeps a minimum rate, so a stalled one cannot hold its connection for Node's 300 s.
  app.use(
    bodyRateGuard({ graceMs: config.get('INGEST_BODY_GRACE_MS'), minBytesPerSecond: config.get('INGEST_BODY_MIN_BYTES_PER_SECOND') }),
  );
  // Box pushes carry images (BODY_LIMIT); REST requests are small (API_BODY_LIMIT).
  const [boxLimit, apiLimit] = [config.get('BODY_LIMIT'), config.get('API_BODY_LIMIT')];
  app.use(byRoute(contentLengthGuard(parseByteLimit(boxLimit)), contentLengthGuard(parseByteLimit(apiLimit))));
  // Boxes do not always send a JSON content type, so every body is read as JSON: body-parser reads the bytes (size
  // limit, no inflation) and jsonBody() parses them, decoding base64 images without a full-body string, once the
  // bytes are within the JSON limits (keys per object, keys and items per body, key length, depth).
  const rawBody = (limit: string) => raw({ limit, type: () => true, inflate: false });
  app.use(byRoute(rawBody(boxLimit), rawBody(apiLimit)));
  app.use('/box-callbacks', gate.afterBody());
  // On the push routes, images stay the body's bytes (LiftedText) and are decoded from them, never as a string.
  app.use(byRoute(jsonBody(jsonBytesCheck(), BOX_LIFTED_KEYS), jsonBody(jsonBytesCheck()), BOX_PUSH_ROUTE));
  app.use(jsonShapeGuard());
  setupOpenApi(app);
  // SIGTERM/SIGINT: graceful shutdown (src/health/graceful-shutdown.service.ts), then exit 0.
  app.enableShutdownHooks([], { useProcessExit: true });
}
