import { EVENT_LISTENER_METADATA } from '@nestjs/event-emitter';
import {
  AlertAcknowledgedEvent,
  AlertRaisedEvent,
  BlacklistSeenEvent,
  DomainEvent,
  RecognitionRecordedEvent,
  StrangerRegisteredEvent,
  VipSeenEvent,
} from './domain-events';
import { OnDomainEvent } from './on-domain-event.decorator';

/**
 * The type checks live in this file: `npm run typecheck` fails when a `@ts-expect-error` below stops being an
 * error, i.e. when a listener of the wrong event type, or of an unknown event name, compiles again.
 */
class Listeners {
  @OnDomainEvent(BlacklistSeenEvent.type)
  onBlacklist(event: BlacklistSeenEvent): string {
    return event.record.recordId;
  }

  // @ts-expect-error the vip alert is not a blacklist alert, although both carry a record
  @OnDomainEvent(VipSeenEvent.type)
  onVipAsBlacklist(event: BlacklistSeenEvent): string {
    return event.record.recordId;
  }

  // @ts-expect-error a face-library event has no record
  @OnDomainEvent('identity.stranger-registered')
  onStrangerAsRecord(event: RecognitionRecordedEvent): string {
    return event.record.recordId;
  }

  // @ts-expect-error not an event this hub raises
  @OnDomainEvent('identity.renamed')
  onUnknown(): void {}

  @OnDomainEvent('alert.*')
  onAnyAlert(event: BlacklistSeenEvent | VipSeenEvent | AlertRaisedEvent | AlertAcknowledgedEvent): string {
    return event.type;
  }

  // @ts-expect-error 'alert.*' also delivers vip alerts
  @OnDomainEvent('alert.*')
  onAnyAlertAsBlacklist(event: BlacklistSeenEvent): string {
    return event.type;
  }

  @OnDomainEvent('**')
  onEverything(event: DomainEvent): string {
    return event.type;
  }

  // @ts-expect-error '**' delivers every event, not only face-library ones
  @OnDomainEvent('**')
  onEverythingAsFace(event: StrangerRegisteredEvent): string {
    return event.face.recordId;
  }
}

describe('@OnDomainEvent', () => {
  it('subscribes with suppressErrors: false, so a failing listener sends the event back to the relay', () => {
    const metadata = Reflect.getMetadata(EVENT_LISTENER_METADATA, Listeners.prototype.onBlacklist) as { event: string; options: object }[];
    expect(metadata).toEqual([{ event: 'alert.blacklist-seen', options: { suppressErrors: false } }]);
    const wildcard = Reflect.getMetadata(EVENT_LISTENER_METADATA, Listeners.prototype.onAnyAlert) as { event: string }[];
    expect(wildcard.map((m) => m.event)).toEqual(['alert.*']);
  });
});
