import { Injectable, OnModuleInit } from '@nestjs/common';
import { isDomainEventType } from '../events/domain-events';
import { OutboxRelay, RelayBatchItem } from '../events/outbox-relay.service';
import { EventStreamHub } from './event-stream/event-stream.hub';
import { WebhookDeliveriesService } from './webhooks/webhook-deliveries.service';

/**
 * Every batch of domain events the relay hands over: wakes the live streams of this instance (they read the outbox
 * themselves, so events from other instances arrive by polling) and queues the batch's webhook deliveries in one
 * transaction. A failure goes back to the outbox relay, which retries the batch's events; queuing is idempotent.
 * A batch handler rather than an event listener, so that webhooks cost a few statements per batch, not per event.
 */
@Injectable()
export class IntegrationsListener implements OnModuleInit {
  constructor(
    private readonly relay: OutboxRelay,
    private readonly hub: EventStreamHub,
    private readonly webhooks: WebhookDeliveriesService,
  ) {}

  onModuleInit(): void {
    this.relay.onBatch((items) => this.onBatch(items));
  }

  private async onBatch(items: RelayBatchItem[]): Promise<void> {
    this.hub.kick();
    // Rows of a type this build does not know are marked processed unheard; consumers do not get them either.
    await this.webhooks.enqueueBatch(items.filter((i) => isDomainEventType(i.type)));
  }
}
