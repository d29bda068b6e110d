import { Module } from '@nestjs/common';
import { RecognitionRecordsModule } from '../recognition-records/recognition-records.module';
import { BoxCallbacksController } from './box-callbacks.controller';
import { BoxCallbacksService } from './box-callbacks.service';

@Module({
  imports: [RecognitionRecordsModule],
  controllers: [BoxCallbacksController],
  providers: [BoxCallbacksService],
})
export class BoxCallbacksModule {}
