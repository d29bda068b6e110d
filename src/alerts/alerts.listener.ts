import { Injectable } from '@nestjs/common';
import { RecognitionRecordedEvent } from '../events/domain-events';
import { OnDomainEvent } from '../events/on-domain-event.decorator';
import { AlertsService } from './alerts.service';

/**
 * A feature module subscribing to domain events: nothing in the core modules knows it exists. @OnDomainEvent
 * types each handler's event and hands a failure back to the outbox relay, which retries with backoff.
 * Every stored record is matched against the enabled alert rules (the default ones raise what the watch-list
 * alerts of earlier releases did).
 */
@Injectable()
export class AlertsListener {
  constructor(private readonly alerts: AlertsService) {}

  @OnDomainEvent(RecognitionRecordedEvent.type)
  async onRecorded(event: RecognitionRecordedEvent): Promise<void> {
    await this.alerts.evaluateRecord(event.record.recordId, event.meta?.eventId ?? null, event.meta?.occurredAt ?? Date.now());
  }
}
