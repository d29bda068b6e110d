import { AsyncResource } from 'node:async_hooks';

/**
 * Background loops (outbox relay, webhook dispatcher, event stream polls) are woken by requests. Work queued from
 * a request runs in that request's async context, so its log lines would carry the id of whichever request woke
 * it. A scope made when the service is built (at start-up, outside any request) runs the work in that context
 * instead: its lines carry no request id.
 */
export function backgroundScope(name: string): <A extends unknown[], R>(fn: (...args: A) => R) => (...args: A) => R {
  const resource = new AsyncResource(name);
  return (fn) => resource.bind(fn);
}
