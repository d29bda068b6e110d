import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config.service';
import { UnitOfWork } from '../database/unit-of-work';
import { RecognitionRecordsModule } from '../recognition-records/recognition-records.module';
import { BoxAccessService } from './box-access.service';
import { BoxCallbacksController } from './box-callbacks.controller';
import { BoxCallbacksService } from './box-callbacks.service';

@Module({
  imports: [RecognitionRecordsModule],
  controllers: [BoxCallbacksController],
  providers: [
    BoxCallbacksService,
    { provide: BoxAccessService, inject: [UnitOfWork, AppConfig], useFactory: BoxAccessService.fromConfig },
  ],
  exports: [BoxAccessService],
})
export class BoxCallbacksModule {}
