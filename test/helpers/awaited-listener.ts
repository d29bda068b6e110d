import { EventEmitter2 } from '@nestjs/event-emitter';

/**
 * Registers an async listener on the app's event emitter and returns its unsubscribe function. The outbox relay
 * publishes with emitAsync(), which awaits every listener and records its rejection on the outbox row, so the
 * promise is handled there; EventEmitter2 merely types listeners as returning void, hence the one cast here.
 */
export function onAwaited<E>(emitter: EventEmitter2, type: string, listener: (event: E) => Promise<void>): () => void {
  const fn = listener as (event: E) => void;
  emitter.on(type, fn);
  return () => {
    emitter.off(type, fn);
  };
}
