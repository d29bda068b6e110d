import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule, AppModuleOptions } from './app.module';
import { AppConfig } from './config/app-config.service';
import type { LogLevel } from '@nestjs/common';

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

function nestLogLevels(level: string | undefined): LogLevel[] | false {
  if (level === 'silent') return false;
  const upTo = { error: 1, warn: 2, info: 3, debug: 5 }[level ?? 'info'] ?? 3;
  return LEVELS.slice(0, upTo + 1);
}

/** Builds the application exactly as production runs it; tests use it too. */
export async function createApp(options: AppModuleOptions = {}): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(options), {
    bodyParser: false,
    bufferLogs: false,
    logger: nestLogLevels(options.env?.LOG_LEVEL ?? process.env.LOG_LEVEL),
  });
  configureApp(app);
  return app;
}

export function configureApp(app: NestExpressApplication): void {
  const config = app.get(AppConfig);
  const trustProxy = config.get('TRUST_PROXY');
  if (trustProxy) app.set('trust proxy', /^\d+$/.test(trustProxy) ? Number(trustProxy) : trustProxy);
  // Boxes do not always send a JSON content type, so every body is read as JSON.
  app.useBodyParser('json', { limit: config.get('BODY_LIMIT'), type: () => true });
  app.enableShutdownHooks();
}
