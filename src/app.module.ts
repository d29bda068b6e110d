import { DynamicModule, Module, Type } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { ConfigModule } from '@nestjs/config';
import { AlertsModule } from './alerts/alerts.module';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { BrokersModule } from './brokers/brokers.module';
import { BoxCallbacksModule } from './box-callbacks/box-callbacks.module';
import { apiValidationPipe } from './common/api-validation.pipe';
import { HttpErrorFilter } from './common/http-error.filter';
import { AppConfig } from './config/app-config.service';
import { validateEnvironment } from './config/environment';
import { DatabaseModule } from './database/database.module';
import { entities } from './entities';
import { DevicesApiModule, DevicesModule } from './devices/devices.module';
import { EventsModule } from './events/events.module';
import { FaceSearchModule } from './face-search/face-search.module';
import { IdentitiesModule } from './identities/identities.module';
import { ImagesModule } from './images/images.module';
import { IntegrationsModule } from './integrations/integrations.module';
import { IngestionModule } from './ingestion/ingestion.module';
import { RecognitionRecordsModule } from './recognition-records/recognition-records.module';
import { RecordsStoreModule } from './recognition-records/records-store.module';
import { HealthModule } from './health/health.module';
import { LoggingModule } from './logging/logging.module';
import { MetricsModule } from './metrics/metrics.module';
import { PersonsModule } from './persons/persons.module';
import { RetentionModule } from './retention/retention.module';

export interface AppModuleOptions {
  /** Settings applied over the environment (tests, embedding). */
  env?: Record<string, string | undefined>;
  /** Further feature modules, mounted like the built-in ones (tests). */
  modules?: Type[];
}

@Module({})
export class AppModule {
  static forRoot(options: AppModuleOptions = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({
          isGlobal: true,
          cache: true,
          validate: (raw) => validateEnvironment({ ...raw, ...options.env }),
        }),
        LoggingModule,
        DatabaseModule.forRoot(entities),
        EventsModule,
        MetricsModule,
        AuditModule,
        AuthModule,
        ImagesModule,
        DevicesModule,
        DevicesApiModule.withRecordCounts(RecordsStoreModule),
        IdentitiesModule,
        RecognitionRecordsModule,
        IngestionModule,
        BoxCallbacksModule,
        AlertsModule,
        HealthModule,
        RetentionModule,
        IntegrationsModule,
        BrokersModule,
        PersonsModule,
        FaceSearchModule,
        ...(options.modules ?? []),
      ],
      providers: [AppConfig, { provide: APP_FILTER, useClass: HttpErrorFilter }, { provide: APP_PIPE, useFactory: apiValidationPipe }],
      exports: [AppConfig],
      global: true,
    };
  }
}
