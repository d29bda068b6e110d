import { Module } from '@nestjs/common';
import { DevicesController } from './devices.controller';
import { DevicesQueryService } from './devices-query.service';
import { DevicesService } from './devices.service';

@Module({
  controllers: [DevicesController],
  providers: [DevicesService, DevicesQueryService],
  exports: [DevicesService],
})
export class DevicesModule {}
