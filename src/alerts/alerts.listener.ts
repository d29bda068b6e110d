import { Injectable, Logger } from '@nestjs/common';
import { RecognitionRecordedEvent } from '../events/domain-events';
import { OnDomainEvent } from '../events/on-domain-event.decorator';
import { maskLicenseKey } from '../logging/redact';
import { AlertsService } from './alerts.service';

/**
 * A feature module subscribing to domain events: nothing in the core modules knows it exists. @OnDomainEvent
 * types each handler's event and hands a failure back to the outbox relay, which retries with backoff.
 * Every stored record is matched against the enabled alert rules (the default ones raise what the watch-list
 * alerts of earlier releases did).
 */
@Injectable()
export class AlertsListener {
  private readonly logger = new Logger(AlertsService.name);

  constructor(private readonly alerts: AlertsService) {}

  @OnDomainEvent(RecognitionRecordedEvent.type)
  async onRecorded(event: RecognitionRecordedEvent): Promise<void> {
    const r = event.record;
    const raised = await this.alerts.evaluateRecord(r.recordId, event.meta?.eventId ?? null, event.meta?.occurredAt ?? Date.now());
    for (const a of raised) {
      // One line per alert for operators who watch logs; never a whole license key.
      const who = `${a.identityName ?? '(no name)'} [${a.identityExternalId}]`;
      const where = `media device ${r.deviceExternalId} of box ${maskLicenseKey(r.licenseKey)}`;
      const line = `alert "${a.ruleName}" (${a.severity}): ${who} seen on ${where} at ${new Date(a.occurredAt).toISOString()}`;
      if (a.severity === 'critical') this.logger.warn(line);
      else this.logger.log(line);
    }
  }
}
