import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { RecognitionRecordedEvent } from '../events/domain-events';
import { OutboxRelay } from '../events/outbox-relay.service';
import { maskLicenseKey } from '../logging/redact';
import { AlertsService } from './alerts.service';

/**
 * A feature module subscribing to domain events: nothing in the core modules knows it exists. Records come a relay
 * batch at a time (OutboxRelay.onEvents: the rules are read once per batch, the records' facts in one query); a
 * failure goes back to the relay, which retries the failing records alone, with backoff.
 * Every stored record is matched against the enabled alert rules (the default ones raise what the watch-list
 * alerts of earlier releases did).
 */
@Injectable()
export class AlertsListener implements OnModuleInit {
  private readonly logger = new Logger(AlertsService.name);

  constructor(
    private readonly alerts: AlertsService,
    private readonly relay: OutboxRelay,
  ) {}

  onModuleInit(): void {
    this.relay.onEvents(RecognitionRecordedEvent.type, (events) => this.onRecorded(events));
  }

  async onRecorded(events: RecognitionRecordedEvent[]): Promise<void> {
    const raised = await this.alerts.evaluateRecords(
      events.map((e) => ({ recordId: e.record.recordId, eventId: e.meta?.eventId ?? null, storedAt: e.meta?.occurredAt ?? Date.now() })),
    );
    events.forEach((event, i) => {
      const r = event.record;
      for (const a of raised[i]) {
        // One line per alert for operators who watch logs; never a whole license key.
        const who = `${a.identityName ?? '(no name)'} [${a.identityExternalId}]`;
        const where = `media device ${r.deviceExternalId} of box ${maskLicenseKey(r.licenseKey)}`;
        const line = `alert "${a.ruleName}" (${a.severity}): ${who} seen on ${where} at ${new Date(a.occurredAt).toISOString()}`;
        if (a.severity === 'critical') this.logger.warn(line);
        else this.logger.log(line);
      }
    });
  }
}
