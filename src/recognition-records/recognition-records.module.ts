import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { DevicesModule } from '../devices/devices.module';
import { ImagesModule } from '../images/images.module';
import { RecordsController } from './records.controller';
import { RecordsExportService } from './records-export.service';
import { RecordsQueryService } from './records-query.service';

/** The record store's queries: the records REST API and CSV export (ingest writes through src/ingestion/). */
@Module({
  imports: [AuditModule, DevicesModule, ImagesModule],
  controllers: [RecordsController],
  providers: [RecordsQueryService, RecordsExportService],
  exports: [RecordsQueryService],
})
export class RecognitionRecordsModule {}
