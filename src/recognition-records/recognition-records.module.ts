import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { DevicesModule } from '../devices/devices.module';
import { EventsModule } from '../events/events.module';
import { IdentitiesModule } from '../identities/identities.module';
import { ImagesModule } from '../images/images.module';
import { MetricsModule } from '../metrics/metrics.module';
import { IngestionService } from './ingestion.service';
import { RecordsController } from './records.controller';
import { RecordsExportService } from './records-export.service';
import { RecordsQueryService } from './records-query.service';

@Module({
  imports: [AuditModule, DevicesModule, EventsModule, IdentitiesModule, ImagesModule, MetricsModule],
  controllers: [RecordsController],
  providers: [IngestionService, RecordsQueryService, RecordsExportService],
  exports: [IngestionService, RecordsQueryService],
})
export class RecognitionRecordsModule {}
