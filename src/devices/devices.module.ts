import { DynamicModule, Module, Type } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { MetricsModule } from '../metrics/metrics.module';
import { DevicesController } from './devices.controller';
import { DevicesQueryService } from './devices-query.service';
import { DevicesMetrics } from './devices.metrics';
import { DevicesService } from './devices.service';
import { Box } from './entities/box.entity';
import { MediaDevice } from './entities/media-device.entity';

/** This module's tables, for a data source of its own (the box-access CLI); the app's list is src/entities.ts. */
export const DEVICES_ENTITIES = [Box, MediaDevice];

/** The boxes and media_devices tables, through DevicesService; what ingestion, the box edge and the others import. */
@Module({
  imports: [MetricsModule],
  providers: [DevicesService, DevicesMetrics],
  exports: [DevicesService],
})
export class DevicesModule {}

/** The boxes API (GET/PATCH /boxes). */
@Module({})
export class DevicesApiModule {
  /**
   * `recordCounts` provides DeviceRecordCounts (the records store). Records reference devices, so the devices
   * folder never imports the records module: the composition root names it here.
   */
  static withRecordCounts(recordCounts: Type): DynamicModule {
    return {
      module: DevicesApiModule,
      imports: [DevicesModule, AuditModule, recordCounts],
      controllers: [DevicesController],
      providers: [DevicesQueryService],
    };
  }
}
