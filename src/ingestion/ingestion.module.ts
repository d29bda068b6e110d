import { Module } from '@nestjs/common';
import { DevicesModule } from '../devices/devices.module';
import { EventsModule } from '../events/events.module';
import { IdentitiesModule } from '../identities/identities.module';
import { ImagesModule } from '../images/images.module';
import { MetricsModule } from '../metrics/metrics.module';
import { RecordsStoreModule } from '../recognition-records/records-store.module';
import { IngestionService } from './ingestion.service';

/** The ingest write path: one transaction over devices, identities, records, images and the outbox. */
@Module({
  imports: [DevicesModule, EventsModule, IdentitiesModule, ImagesModule, MetricsModule, RecordsStoreModule],
  providers: [IngestionService],
  exports: [IngestionService],
})
export class IngestionModule {}
