import { Global, Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import { AppConfig } from '../config/app-config.service';
import { ApiAuthFailures, ApiKeyGuard } from './api-key.guard';
import { ConsumerThrottlerGuard } from './consumer-throttler.guard';
import { ApiKeysController } from './api-keys.controller';
import { ApiKeysService } from './api-keys.service';

/** Global so every REST controller can use ApiKeyProtected(). */
@Global()
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => {
        const perMinute = config.get('API_RATE_LIMIT_PER_MINUTE');
        return { throttlers: [{ ttl: 60_000, limit: Math.max(perMinute, 1) }], skipIf: () => perMinute === 0 };
      },
    }),
  ],
  controllers: [ApiKeysController],
  providers: [ApiKeysService, ApiAuthFailures, ApiKeyGuard, ConsumerThrottlerGuard],
  exports: [ApiKeysService, ApiAuthFailures, ApiKeyGuard, ConsumerThrottlerGuard],
})
export class AuthModule {}
