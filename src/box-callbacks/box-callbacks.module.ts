import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config.service';
import { DevicesModule } from '../devices/devices.module';
import { DevicesService } from '../devices/devices.service';
import { IngestionModule } from '../ingestion/ingestion.module';
import { BoxAccessService } from './box-access.service';
import { BoxCallbacksController } from './box-callbacks.controller';
import { BoxCallbacksService } from './box-callbacks.service';

@Module({
  imports: [DevicesModule, IngestionModule],
  controllers: [BoxCallbacksController],
  providers: [
    BoxCallbacksService,
    { provide: BoxAccessService, inject: [DevicesService, AppConfig], useFactory: BoxAccessService.fromConfig },
  ],
  exports: [BoxAccessService],
})
export class BoxCallbacksModule {}
