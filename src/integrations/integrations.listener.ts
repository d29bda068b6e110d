import { Injectable } from '@nestjs/common';
import { DomainEvent, isDomainEvent } from '../events/domain-events';
import { OnDomainEvent } from '../events/on-domain-event.decorator';
import { EventStreamHub } from './event-stream/event-stream.hub';
import { WebhookDeliveriesService } from './webhooks/webhook-deliveries.service';

/**
 * Every relayed domain event: wakes the live streams of this instance (they read the outbox themselves,
 * so events from other instances arrive by polling) and queues webhook deliveries. A failure goes back
 * to the outbox relay, which retries; queuing is idempotent.
 */
@Injectable()
export class IntegrationsListener {
  constructor(
    private readonly hub: EventStreamHub,
    private readonly webhooks: WebhookDeliveriesService,
  ) {}

  @OnDomainEvent('**')
  async onDomainEvent(event: DomainEvent): Promise<void> {
    // '**' would also hear anything else emitted on the bus; only relayed outbox events (with meta) count.
    if (!isDomainEvent(event) || !event.meta) return;
    this.hub.kick();
    await this.webhooks.enqueue(event.meta.eventId, event.type);
  }
}
