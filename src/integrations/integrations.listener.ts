import { Injectable } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { DOMAIN_EVENT_CLASSES, DomainEvent, eventTypeOf } from '../events/domain-events';
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

  @OnEvent('**', { suppressErrors: false })
  async onDomainEvent(event: DomainEvent): Promise<void> {
    if (!event?.meta || !DOMAIN_EVENT_CLASSES.some((c) => event instanceof c)) return;
    this.hub.kick();
    await this.webhooks.enqueue(event.meta.eventId, eventTypeOf(event));
  }
}
