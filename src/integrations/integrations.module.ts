import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { DevicesModule } from '../devices/devices.module';
import { EventsModule } from '../events/events.module';
import { MetricsModule } from '../metrics/metrics.module';
import { RecognitionRecordsModule } from '../recognition-records/recognition-records.module';
import { EventFeedService } from './event-feed.service';
import { EventStreamController } from './event-stream/event-stream.controller';
import { EventStreamHub } from './event-stream/event-stream.hub';
import { EventStreamService } from './event-stream/event-stream.service';
import { StreamAuthGuard } from './event-stream/stream-auth.guard';
import { StreamTokensService } from './event-stream/stream-tokens.service';
import { IntegrationsListener } from './integrations.listener';
import { IntegrationsMetrics } from './integrations.metrics';
import { WebhookDeliveriesService } from './webhooks/webhook-deliveries.service';
import { WebhookDispatcher } from './webhooks/webhook-dispatcher.service';
import { WebhookTargetGuard } from './webhooks/webhook-target-guard';
import { WebhookSubscriptionsService } from './webhooks/webhook-subscriptions.service';
import { WebhooksController } from './webhooks/webhooks.controller';

/** Consumers of domain events outside the hub: the live SSE stream and signed outbound webhooks. */
@Module({
  imports: [AuditModule, AuthModule, DevicesModule, EventsModule, MetricsModule, RecognitionRecordsModule],
  controllers: [EventStreamController, WebhooksController],
  providers: [
    EventFeedService,
    EventStreamHub,
    EventStreamService,
    StreamAuthGuard,
    StreamTokensService,
    IntegrationsListener,
    IntegrationsMetrics,
    WebhookDeliveriesService,
    WebhookDispatcher,
    WebhookSubscriptionsService,
    WebhookTargetGuard,
  ],
  // Retention and erasure remove and rewrite delivery logs through WebhookDeliveriesService; the message brokers
  // (src/brokers) publish the same envelopes from the outbox through EventFeedService.
  exports: [WebhookDeliveriesService, EventFeedService],
})
export class IntegrationsModule {}
