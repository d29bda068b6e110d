import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { EventsModule } from '../events/events.module';
import { RecordsStoreModule } from '../recognition-records/records-store.module';
import { AlertRulesController } from './alert-rules.controller';
import { AlertRulesService } from './alert-rules.service';
import { AlertsController } from './alerts.controller';
import { AlertsListener } from './alerts.listener';
import { AlertsService } from './alerts.service';
import { PERSON_LINKS, type PersonLinks } from '../recognition-records/person-links.types';
import { IdentityIsPersonLookup, PERSON_LOOKUP, type PersonLookup } from './person-lookup.types';

/** Alert rules (admin-managed) and the alerts they raise, fed by domain events. */
@Module({
  imports: [AuditModule, EventsModule, RecordsStoreModule],
  controllers: [AlertRulesController, AlertsController],
  providers: [
    AlertRulesService,
    AlertsService,
    AlertsListener,
    // Persons (src/persons, global) answer through PERSON_LINKS; without that module each identity is its own person.
    {
      provide: PERSON_LOOKUP,
      useFactory: (links?: PersonLinks): PersonLookup => links ?? new IdentityIsPersonLookup(),
      inject: [{ token: PERSON_LINKS, optional: true }],
    },
  ],
  exports: [AlertsService, AlertRulesService],
})
export class AlertsModule {}
