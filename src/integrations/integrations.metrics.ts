import { Injectable, OnModuleInit } from '@nestjs/common';
import { MetricsService } from '../metrics/metrics.service';
import { EventStreamHub } from './event-stream/event-stream.hub';
import { SubscriptionBacklog, WebhookDeliveriesService } from './webhooks/webhook-deliveries.service';

/**
 * What operators of webhooks and streams watch. Webhook figures come from the delivery table at scrape time
 * (the same on every instance: do not sum them); open streams are this instance's own.
 */
@Injectable()
export class IntegrationsMetrics implements OnModuleInit {
  constructor(
    private readonly metrics: MetricsService,
    private readonly hub: EventStreamHub,
    private readonly deliveries: WebhookDeliveriesService,
  ) {}

  onModuleInit(): void {
    const hub = this.hub;
    this.metrics.gauge({
      name: 'rh_event_stream_connections',
      help: 'Open /events/stream connections on this instance.',
      aggregator: 'sum', // per worker: a cluster's total is the sum
      collect() {
        this.set(hub.clients);
      },
    });

    // One database read per scrape feeds all four gauges: prom-client starts every collect() at once, so they
    // share the read in flight.
    let snapshot: Promise<SubscriptionBacklog[]> | null = null;
    const read = () => (snapshot ??= this.deliveries.backlog().finally(() => (snapshot = null)));
    const perSubscription = (name: string, help: string, value: (b: SubscriptionBacklog) => number) =>
      this.metrics.gauge({
        name,
        help,
        labelNames: ['subscription'],
        async collect() {
          const rows = await read();
          this.reset();
          for (const b of rows) this.set({ subscription: b.subscriptionId }, value(b));
        },
      });
    perSubscription('rh_webhook_pending_deliveries', 'Webhook deliveries not yet sent successfully, by subscription.', (b) => b.pending);
    perSubscription(
      'rh_webhook_retrying_deliveries',
      'Pending webhook deliveries that failed at least once, by subscription.',
      (b) => b.retrying,
    );
    perSubscription(
      'rh_webhook_failed_deliveries',
      'Webhook deliveries abandoned after WEBHOOK_MAX_ATTEMPTS (kept with the delivery log), by subscription.',
      (b) => b.failed,
    );
    perSubscription(
      'rh_webhook_oldest_pending_age_seconds',
      'Age of the oldest pending webhook delivery, by subscription.',
      (b) => b.oldestPendingAgeMs / 1000,
    );
  }
}
