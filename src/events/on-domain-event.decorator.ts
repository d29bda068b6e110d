import { OnEvent } from '@nestjs/event-emitter';
import type { DomainEventMap, DomainEventType } from './domain-events';

type NamespaceOf<T> = T extends `${infer N}.${string}` ? N : never;

/** An event type, every type of a namespace (`'alert.*'`) or every event (`'**'`), as EventEmitter2 matches them. */
export type DomainEventPattern = DomainEventType | `${NamespaceOf<DomainEventType>}.*` | '**';

/** The events a pattern matches: its listener is handed one of these. */
export type DomainEventsMatching<P extends DomainEventPattern> = P extends '**'
  ? DomainEventMap[DomainEventType]
  : P extends `${infer N}.*`
    ? DomainEventMap[Extract<DomainEventType, `${N}.${string}`>]
    : DomainEventMap[P & DomainEventType];

/**
 * Listen to relayed domain events. Typed: only known types or wildcards compile, and the method must accept the
 * matching event class (a mismatch is a compile error; see on-domain-event.decorator.spec.ts). Failures go back to
 * the outbox relay, which retries the event with backoff (suppressErrors: false; with Nest's default, @OnEvent
 * would only log a listener's error and the event would count as handled).
 */
export function OnDomainEvent<P extends DomainEventPattern>(pattern: P) {
  return <M extends (event: DomainEventsMatching<P>) => unknown>(
    target: object,
    key: string | symbol,
    descriptor: TypedPropertyDescriptor<M>,
  ): void => {
    // OnEvent only records metadata on the method; the descriptor stays as it is.
    OnEvent(pattern, { suppressErrors: false })(target, key, descriptor);
  };
}
