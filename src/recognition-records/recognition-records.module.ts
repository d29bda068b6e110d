import { Module } from '@nestjs/common';
import { DevicesModule } from '../devices/devices.module';
import { IdentitiesModule } from '../identities/identities.module';
import { ImagesModule } from '../images/images.module';
import { IngestionService } from './ingestion.service';

@Module({
  imports: [DevicesModule, IdentitiesModule, ImagesModule],
  providers: [IngestionService],
  exports: [IngestionService],
})
export class RecognitionRecordsModule {}
