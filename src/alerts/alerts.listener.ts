import { Injectable } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { BlacklistSeenEvent, VipSeenEvent } from '../events/domain-events';
import { AlertsService } from './alerts.service';

/**
 * A feature module subscribing to domain events with plain @OnEvent: nothing in the core modules knows it
 * exists. suppressErrors: false hands a failure back to the outbox relay, which retries with backoff
 * (with Nest's default, the error would only be logged and the event counted as delivered).
 */
@Injectable()
export class AlertsListener {
  constructor(private readonly alerts: AlertsService) {}

  @OnEvent(BlacklistSeenEvent.type, { suppressErrors: false })
  async onBlacklistSeen(event: BlacklistSeenEvent): Promise<void> {
    await this.alerts.raise('blacklist-seen', event.record, event.meta?.eventId ?? null);
  }

  @OnEvent(VipSeenEvent.type, { suppressErrors: false })
  async onVipSeen(event: VipSeenEvent): Promise<void> {
    await this.alerts.raise('vip-seen', event.record, event.meta?.eventId ?? null);
  }
}
