import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { EventsModule } from '../events/events.module';
import { HealthModule } from '../health/health.module';
import { IdentitiesModule } from '../identities/identities.module';
import { PERSON_LINKS, type PersonLinks } from '../recognition-records/person-links.types';
import { RecordsStoreModule } from '../recognition-records/records-store.module';
import { FaceIndexService } from './face-index.service';
import { FaceSearchController } from './face-search.controller';
import { FaceSearchService } from './face-search.service';
import { identityAsPerson, PERSON_RESOLVER, personsFrom, type PersonResolver } from './face-search.types';

/**
 * Search by face: a feature module fed by the outbox's domain events; core modules know nothing of
 * it. Persons come from the persons module's PERSON_LINKS when present; without it a person is an identity.
 */
@Module({
  imports: [AuditModule, EventsModule, HealthModule, IdentitiesModule, RecordsStoreModule],
  controllers: [FaceSearchController],
  providers: [
    FaceIndexService,
    FaceSearchService,
    {
      provide: PERSON_RESOLVER,
      useFactory: (links?: PersonLinks): PersonResolver => (links ? personsFrom(links) : identityAsPerson),
      inject: [{ token: PERSON_LINKS, optional: true }],
    },
  ],
  exports: [FaceSearchService],
})
export class FaceSearchModule {}
