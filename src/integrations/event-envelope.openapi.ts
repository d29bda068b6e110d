import type { SchemaObject } from '@nestjs/swagger';
import { DOMAIN_EVENT_CLASSES } from '../events/domain-events';
import { IMAGE_ROLES } from '../recognition-records/recognition-record.types';

/**
 * What SSE clients and webhook receivers get for one domain event (EventFeedService builds it), as OpenAPI
 * schemas: ids and image URLs, never image bytes or feature vectors.
 */
const uuid: SchemaObject = { type: 'string', format: 'uuid' };
const text = (nullable = false): SchemaObject => ({ type: 'string', ...(nullable && { nullable: true }) });

const images: SchemaObject = {
  type: 'object',
  description: 'Image endpoints of the record by role (biometric-reader); a role is absent when the record has no such image.',
  properties: Object.fromEntries(IMAGE_ROLES.map((role) => [role, { type: 'string', example: `/records/<id>/images/${role}` }])),
};

const recordData: SchemaObject = {
  title: 'recognition.recorded, alert.blacklist-seen, alert.vip-seen',
  type: 'object',
  properties: {
    recordId: uuid,
    boxId: uuid,
    licenseKey: text(),
    mediaDeviceId: uuid,
    deviceExternalId: text(),
    identityId: { ...uuid, nullable: true },
    identityExternalId: text(),
    identityName: text(true),
    userType: text(true),
    postAction: text(true),
    occurredAt: { type: 'integer', format: 'int64', description: 'Box event time, epoch ms.' },
    score: { type: 'number', nullable: true, description: 'Normalised 0-1.' },
    hasDefects: { type: 'boolean' },
    images,
  },
};

const faceData: SchemaObject = {
  title: 'identity.stranger-registered, identity.face-library-updated',
  type: 'object',
  properties: {
    recordId: uuid,
    identityId: uuid,
    identityExternalId: text(),
    imageSha256: text(true),
    occurredAt: { type: 'integer', format: 'int64' },
    images,
  },
};

const mergeData: SchemaObject = {
  title: 'identity.merged',
  type: 'object',
  properties: {
    sourceId: uuid,
    sourceExternalId: text(),
    targetId: uuid,
    targetExternalId: text(),
    movedRecords: { type: 'integer' },
    movedFaces: { type: 'integer' },
    mergedBy: text(),
  },
};

export const EVENT_ENVELOPE_SCHEMA: SchemaObject = {
  title: 'EventEnvelope',
  type: 'object',
  required: ['id', 'type', 'timestamp', 'data'],
  description: 'One domain event: the SSE `data:` line and the webhook body. Delivery is at least once: use `id` to drop duplicates.',
  properties: {
    id: { type: 'string', pattern: '^\\d+$', description: 'Event id (increasing): the SSE id, the Last-Event-ID to resume after, an idempotency key.' },
    type: { type: 'string', enum: DOMAIN_EVENT_CLASSES.map((c) => c.type) },
    timestamp: { type: 'string', format: 'date-time', description: 'When the event was committed.' },
    data: { oneOf: [recordData, faceData, mergeData], description: 'The event\'s fields, by type.' },
  },
};

export const EVENT_SCHEMAS: Record<string, SchemaObject> = { EventEnvelope: EVENT_ENVELOPE_SCHEMA };

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
