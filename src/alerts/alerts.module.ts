import { Module } from '@nestjs/common';
import { RecordsStoreModule } from '../recognition-records/records-store.module';
import { AlertsListener } from './alerts.listener';
import { AlertsService } from './alerts.service';

/** Watch-list alerts (blacklist, vip), fed by domain events. */
@Module({
  imports: [RecordsStoreModule],
  providers: [AlertsService, AlertsListener],
  exports: [AlertsService],
})
export class AlertsModule {}
