import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ImagesModule } from '../images/images.module';
import { GracefulShutdown } from './graceful-shutdown.service';
import { HealthController } from './health.controller';
import { ReadinessDetails } from './readiness-details.service';

@Module({
  imports: [TerminusModule.forRoot({ logger: false }), ImagesModule],
  controllers: [HealthController],
  providers: [GracefulShutdown, ReadinessDetails],
  exports: [GracefulShutdown, ReadinessDetails],
})
export class HealthModule {}
