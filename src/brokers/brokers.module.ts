import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module';
import { MetricsModule } from '../metrics/metrics.module';
import { HealthModule } from '../health/health.module';
import { IntegrationsModule } from '../integrations/integrations.module';
import { RecordsStoreModule } from '../recognition-records/records-store.module';
import { BrokerStreamsStore } from './broker-streams.store';
import { BrokersService } from './brokers.service';

/** Domain events on MQTT and AMQP 0-9-1 brokers, each from the outbox with its own cursor (see README "Message brokers"). */
@Module({
  imports: [EventsModule, HealthModule, IntegrationsModule, MetricsModule, RecordsStoreModule],
  providers: [BrokersService, BrokerStreamsStore],
})
export class BrokersModule {}
