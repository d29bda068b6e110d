import { Module } from '@nestjs/common';
import { HealthModule } from '../health/health.module';
import { IdentitiesModule } from '../identities/identities.module';
import { RecordsStoreModule } from '../recognition-records/records-store.module';
import { FaceIndexService } from './face-index.service';
import { FaceSearchController } from './face-search.controller';
import { FaceSearchService } from './face-search.service';

/**
 * Search by face (issue 15 §1-2): a feature module fed by the outbox's domain events; core modules know nothing of
 * it. The persons module may provide PERSON_RESOLVER (face-search.types.ts); without it a person is an identity.
 */
@Module({
  imports: [HealthModule, IdentitiesModule, RecordsStoreModule],
  controllers: [FaceSearchController],
  providers: [FaceIndexService, FaceSearchService],
  exports: [FaceSearchService],
})
export class FaceSearchModule {}
