import { OnEvent } from '@nestjs/event-emitter';

/**
 * Listen to a relayed domain event, with failures reported back to the outbox relay so the event is
 * retried with backoff. (A plain @OnEvent works too, but Nest then only logs a listener's errors.)
 */
export const OnDomainEvent = (type: string | string[]): MethodDecorator => OnEvent(type, { suppressErrors: false });
