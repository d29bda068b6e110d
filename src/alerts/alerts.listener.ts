import { Injectable } from '@nestjs/common';
import { BlacklistSeenEvent, VipSeenEvent } from '../events/domain-events';
import { OnDomainEvent } from '../events/on-domain-event.decorator';
import { AlertsService } from './alerts.service';

/**
 * A feature module subscribing to domain events: nothing in the core modules knows it exists. @OnDomainEvent
 * types each handler's event and hands a failure back to the outbox relay, which retries with backoff.
 */
@Injectable()
export class AlertsListener {
  constructor(private readonly alerts: AlertsService) {}

  @OnDomainEvent(BlacklistSeenEvent.type)
  async onBlacklistSeen(event: BlacklistSeenEvent): Promise<void> {
    await this.alerts.raise('blacklist-seen', event.record, event.meta?.eventId ?? null);
  }

  @OnDomainEvent(VipSeenEvent.type)
  async onVipSeen(event: VipSeenEvent): Promise<void> {
    await this.alerts.raise('vip-seen', event.record, event.meta?.eventId ?? null);
  }
}
