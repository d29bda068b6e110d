import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { AuditModule } from '../audit/audit.module';
import { AppConfig } from '../config/app-config.service';
import { ApiAuthFailures, ApiKeyGuard } from './api-key.guard';
import { ConsumerThrottlerGuard } from './consumer-throttler.guard';
import { ApiKeysController } from './api-keys.controller';
import { AuditLogController } from './audit-log.controller';
import { ApiKeysService } from './api-keys.service';

/**
 * Every route of the app needs an API key unless marked @Public() (auth.decorators.ts): the guards are APP_GUARDs, so
 * they apply app-wide without the module being global. Modules whose guards build on ApiKeyGuard (the event stream's)
 * import it for ApiKeysService and ApiAuthFailures.
 */
@Module({
  imports: [
    AuditModule,
    ThrottlerModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => {
        const perMinute = config.get('API_RATE_LIMIT_PER_MINUTE');
        return { throttlers: [{ ttl: 60_000, limit: Math.max(perMinute, 1) }], skipIf: () => perMinute === 0 };
      },
    }),
  ],
  controllers: [ApiKeysController, AuditLogController],
  providers: [
    ApiKeysService,
    ApiAuthFailures,
    // Global guards run in this order: the rate limit counts a request before its key is checked.
    { provide: APP_GUARD, useClass: ConsumerThrottlerGuard },
    { provide: APP_GUARD, useClass: ApiKeyGuard },
  ],
  exports: [ApiKeysService, ApiAuthFailures],
})
export class AuthModule {}

// For guards of other modules that accept further credentials (the event stream's ?token=) and extend the key check.
export { ApiAuthFailures, ApiKeyGuard, presentedKey } from './api-key.guard';
