import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { AuditModule } from '../audit/audit.module';
import { EventsModule } from '../events/events.module';
import { IdentitiesModule } from '../identities/identities.module';
import { ImagesModule } from '../images/images.module';
import { IntegrationsModule } from '../integrations/integrations.module';
import { RecordsStoreModule } from '../recognition-records/records-store.module';
import { ErasureController } from './erasure.controller';
import { ErasureService } from './erasure.service';
import { ImageReleaseService } from './image-release.service';
import { RetentionScheduler } from './retention.scheduler';
import { RetentionService } from './retention.service';
import { StoragePurgeService } from './storage-purge.service';

/** Retention purge and erasure: orchestration over the owners of the tables involved (records, identities, images, events, webhooks). */
@Module({
  imports: [ScheduleModule.forRoot(), AuditModule, EventsModule, ImagesModule, RecordsStoreModule, IdentitiesModule, IntegrationsModule],
  controllers: [ErasureController],
  providers: [ImageReleaseService, RetentionService, ErasureService, RetentionScheduler, StoragePurgeService],
  exports: [RetentionService, ErasureService],
})
export class RetentionModule {}
