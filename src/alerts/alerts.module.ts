import { Module } from '@nestjs/common';
import { RecordsStoreModule } from '../recognition-records/records-store.module';
import { AlertRulesController } from './alert-rules.controller';
import { AlertRulesService } from './alert-rules.service';
import { AlertsController } from './alerts.controller';
import { AlertsListener } from './alerts.listener';
import { AlertsService } from './alerts.service';
import { IdentityIsPersonLookup, PERSON_LOOKUP } from './person-lookup.types';

/** Alert rules (admin-managed) and the alerts they raise, fed by domain events. */
@Module({
  imports: [RecordsStoreModule],
  controllers: [AlertRulesController, AlertsController],
  // Wire a persons module here: { provide: PERSON_LOOKUP, useExisting: PersonsService } (see person-lookup.types.ts).
  providers: [AlertRulesService, AlertsService, AlertsListener, { provide: PERSON_LOOKUP, useClass: IdentityIsPersonLookup }],
  exports: [AlertsService, AlertRulesService],
})
export class AlertsModule {}
