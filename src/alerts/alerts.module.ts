import { Module } from '@nestjs/common';
import { AlertsListener } from './alerts.listener';
import { AlertsService } from './alerts.service';

/** Watch-list alerts (blacklist, vip), fed by domain events. */
@Module({
  providers: [AlertsService, AlertsListener],
  exports: [AlertsService],
})
export class AlertsModule {}
