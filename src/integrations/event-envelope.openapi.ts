import { getSchemaPath, type SchemaObject } from '@nestjs/swagger';
import { DOMAIN_EVENT_TYPES, DomainEventType } from '../events/domain-events';
import { PUBLIC_EVENTS } from './event-envelope';

/**
 * What SSE clients and webhook receivers get for one domain event, as OpenAPI schemas: one envelope per event
 * type whose `data` is that type's DTO (./event-envelope.ts; the DTO classes are registered as extra models by
 * EventStreamController), and EventEnvelope, any of them by `type`.
 */
const envelopeName = (type: DomainEventType) => PUBLIC_EVENTS[type].dto.name.replace(/Data$/, 'Envelope');

const envelopeSchema = (type: DomainEventType): SchemaObject => ({
  type: 'object',
  required: ['id', 'type', 'timestamp', 'data'],
  properties: {
    id: {
      type: 'string',
      pattern: '^\\d+$',
      description: 'Event id (increasing): the SSE id, the Last-Event-ID to resume after, an idempotency key.',
    },
    type: { type: 'string', enum: [type] },
    timestamp: { type: 'string', format: 'date-time', description: 'When the event was committed.' },
    data: { $ref: getSchemaPath(PUBLIC_EVENTS[type].dto) },
  },
});

export const EVENT_ENVELOPE_SCHEMA: SchemaObject = {
  title: 'EventEnvelope',
  description: 'One domain event: the SSE `data:` line and the webhook body. Delivery is at least once: use `id` to drop duplicates.',
  oneOf: DOMAIN_EVENT_TYPES.map((type) => ({ $ref: `#/components/schemas/${envelopeName(type)}` })),
  discriminator: {
    propertyName: 'type',
    mapping: Object.fromEntries(DOMAIN_EVENT_TYPES.map((type) => [type, `#/components/schemas/${envelopeName(type)}`])),
  },
};

export const EVENT_SCHEMAS: Record<string, SchemaObject> = {
  EventEnvelope: EVENT_ENVELOPE_SCHEMA,
  ...Object.fromEntries(DOMAIN_EVENT_TYPES.map((type) => [envelopeName(type), envelopeSchema(type)])),
};

export const SSE_FORMAT =
  'The 200 is `text/event-stream`. It opens with `retry: 3000` and a `: connected` comment; each event is a frame\n\n' +
  '```\nid: <event id>\nevent: <event type>\ndata: <EventEnvelope as one line of JSON>\n\n```\n\n' +
  'Comment lines (`: keep-alive`) every EVENT_STREAM_HEARTBEAT_MS keep proxies open. On reconnect, send the last id ' +
  'as the Last-Event-ID header (or `last_event_id`) to receive exactly what was missed while the outbox keeps it. ' +
  'A client too far behind is disconnected and resumes the same way. The stream never ends by itself, so Swagger ' +
  'UI\'s "Try it out" waits until it is cancelled: use curl -N or an EventSource. Schema: EventEnvelope.';

export const WEBHOOK_FORMAT =
  'Each matching event is POSTed to `url` as JSON (an EventEnvelope, see schemas), one event per request, in ' +
  'event order per subscription, at least once. Headers follow Standard Webhooks (standardwebhooks.com):\n\n' +
  '- `webhook-id`: the delivery id (the same on every retry: an idempotency key)\n' +
  '- `webhook-timestamp`: epoch seconds of this attempt\n' +
  '- `webhook-signature`: `v1,<base64 HMAC-SHA256>` of `<webhook-id>.<webhook-timestamp>.<raw body>`, keyed with ' +
  'the base64 part of the subscription secret (after `whsec_`)\n' +
  '- `content-type: application/json`, `user-agent: RecognitionHub-Webhooks/1`\n\n' +
  'Any 2xx acknowledges. Anything else, a redirect (never followed) or no answer within WEBHOOK_TIMEOUT_MS is ' +
  'retried with backoff up to WEBHOOK_MAX_ATTEMPTS, then the delivery is marked failed; every attempt is in the ' +
  'delivery log. Verify the signature and reject timestamps far from now.';
