import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config.service';
import { DevicesModule } from '../devices/devices.module';
import { DevicesService } from '../devices/devices.service';
import { IngestionModule } from '../ingestion/ingestion.module';
import { MetricsModule } from '../metrics/metrics.module';
import { BoxAccessService } from './box-access.service';
import { BoxCallbacksController } from './box-callbacks.controller';
import { BoxCallbacksService } from './box-callbacks.service';

@Module({
  imports: [DevicesModule, IngestionModule, MetricsModule],
  controllers: [BoxCallbacksController],
  providers: [
    BoxCallbacksService,
    { provide: BoxAccessService, inject: [DevicesService, AppConfig], useFactory: BoxAccessService.fromConfig },
  ],
  exports: [BoxAccessService],
})
export class BoxCallbacksModule {}

// The box edge's HTTP middleware, which the composition root (src/bootstrap.ts) installs around the body parser: the
// hostile-input checks (for every route) and the ingest gate (the box route's upload caps).
export { contentLengthGuard, jsonBytesCheck, jsonShapeGuard, parseByteLimit } from './hostile-input';
export { IngestGate } from './ingest-gate';
export { BOX_LIFTED_KEYS } from './box-callback-body.pipe';
export { BOX_PUSH_ROUTE } from './box-callbacks.controller';
