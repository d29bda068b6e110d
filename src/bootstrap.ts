import { NestFactory } from '@nestjs/core';
import helmet from 'helmet';
import type { NextFunction, Request, Response } from 'express';
import { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule, AppModuleOptions } from './app.module';
import { AppConfig } from './config/app-config.service';
import { setupOpenApi } from './common/openapi';
import { jsonBody } from './common/json-body';
import { contentLengthGuard, jsonShapeGuard, parseByteLimit } from './box-callbacks/hostile-input';
import { IngestGate } from './box-callbacks/ingest-gate';
import { Logger as PinoNestLogger } from 'nestjs-pino';
import { MetricsService } from './metrics/metrics.service';

/** Builds the application exactly as production runs it; tests use it too. */
export async function createApp(options: AppModuleOptions = {}): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(options), {
    bodyParser: false,
    // Start-up logs wait for the JSON logger (src/logging), which honours LOG_LEVEL.
    bufferLogs: true,
  });
  app.useLogger(app.get(PinoNestLogger));
  configureApp(app);
  return app;
}

export function configureApp(app: NestExpressApplication): void {
  const config = app.get(AppConfig);
  const trustProxy = config.get('TRUST_PROXY');
  if (trustProxy) app.set('trust proxy', /^\d+$/.test(trustProxy) ? Number(trustProxy) : trustProxy);
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
  // Hostile-input defences around the JSON parser (src/box-callbacks/hostile-input.ts): the in-flight cap and
  // the declared-size check run before a body is read; compressed bodies get 415 (inflate: false), so the
  // limit bounds what is held in memory; over-deep or prototype-poisoning JSON gets 400 before any code walks it.
  app.use('/box-callbacks', new IngestGate(config.get('INGEST_MAX_IN_FLIGHT')).middleware());
  app.use(contentLengthGuard(parseByteLimit(config.get('BODY_LIMIT'))));
  // Boxes do not always send a JSON content type, so every body is read as JSON: body-parser reads the bytes (size
  // limit, no inflation) and jsonBody() parses them, decoding base64 images without a full-body string.
  app.useBodyParser('raw', { limit: config.get('BODY_LIMIT'), type: () => true, inflate: false });
  app.use(jsonBody());
  app.use(jsonShapeGuard());
  setupOpenApi(app);
  // SIGTERM/SIGINT: graceful shutdown (src/health/graceful-shutdown.service.ts), then exit 0.
  app.enableShutdownHooks([], { useProcessExit: true });
}
