import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { EventsModule } from '../events/events.module';
import { ImagesModule } from '../images/images.module';
import { GracefulShutdown } from './graceful-shutdown.service';
import { HealthController } from './health.controller';
import { ReadinessChecks } from './readiness.service';

@Module({
  imports: [TerminusModule.forRoot({ logger: false }), EventsModule, ImagesModule],
  controllers: [HealthController],
  providers: [GracefulShutdown, ReadinessChecks],
  exports: [GracefulShutdown, ReadinessChecks],
})
export class HealthModule {}
