import { Global, Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { EventsModule } from '../events/events.module';
import { IdentitiesModule } from '../identities/identities.module';
import { PERSON_LINKS } from '../recognition-records/person-links.types';
import { RecordsStoreModule } from '../recognition-records/records-store.module';
import { PersonsController, PresenceController } from './persons.controller';
import { PersonsListener } from './persons.listener';
import { PersonsQueryService } from './persons-query.service';
import { PersonsService } from './persons.service';

/**
 * Persons: identities that are one human, presence. Global only to provide PERSON_LINKS to the modules below it
 * (identities, recognition-records, retention), which must not import this module (it imports them).
 */
@Global()
@Module({
  imports: [AuditModule, EventsModule, IdentitiesModule, RecordsStoreModule],
  controllers: [PersonsController, PresenceController],
  providers: [PersonsService, PersonsQueryService, PersonsListener, { provide: PERSON_LINKS, useExisting: PersonsService }],
  exports: [PERSON_LINKS],
})
export class PersonsModule {}
