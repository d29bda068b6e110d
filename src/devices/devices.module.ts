import { Module } from '@nestjs/common';
import { RecordsStoreModule } from '../recognition-records/records-store.module';
import { DevicesController } from './devices.controller';
import { DevicesQueryService } from './devices-query.service';
import { DevicesMetrics } from './devices.metrics';
import { DevicesService } from './devices.service';

@Module({
  imports: [RecordsStoreModule],
  controllers: [DevicesController],
  providers: [DevicesService, DevicesQueryService, DevicesMetrics],
  exports: [DevicesService],
})
export class DevicesModule {}
