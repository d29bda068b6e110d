import { Module } from '@nestjs/common';
import { DevicesModule } from '../devices/devices.module';
import { IdentitiesModule } from '../identities/identities.module';
import { ImagesModule } from '../images/images.module';
import { IngestionService } from './ingestion.service';
import { RecordsController } from './records.controller';
import { RecordsExportService } from './records-export.service';
import { RecordsQueryService } from './records-query.service';

@Module({
  imports: [DevicesModule, IdentitiesModule, ImagesModule],
  controllers: [RecordsController],
  providers: [IngestionService, RecordsQueryService, RecordsExportService],
  exports: [IngestionService, RecordsQueryService],
})
export class RecognitionRecordsModule {}
