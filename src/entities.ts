import { Box } from './devices/entities/box.entity';
import { MediaDevice } from './devices/entities/media-device.entity';
import { Identity } from './identities/entities/identity.entity';
import { Face } from './identities/entities/face.entity';
import { RecognitionRecord } from './recognition-records/entities/recognition-record.entity';
import { StoredImage } from './images/entities/stored-image.entity';
import { PendingImageRelease } from './images/entities/pending-image-release.entity';
import { OutboxEvent } from './events/entities/outbox-event.entity';
import { ApiKey } from './auth/entities/api-key.entity';
import { AuditEntry } from './audit/entities/audit-entry.entity';
import { Alert } from './alerts/entities/alert.entity';
import { AlertRule } from './alerts/entities/alert-rule.entity';
import { WebhookSubscription } from './integrations/webhooks/entities/webhook-subscription.entity';
import { WebhookDelivery } from './integrations/webhooks/entities/webhook-delivery.entity';
import { WebhookDeliveryAttempt } from './integrations/webhooks/entities/webhook-delivery-attempt.entity';
import { EventStreamToken } from './integrations/event-stream/entities/event-stream-token.entity';
import { BrokerStream } from './brokers/entities/broker-stream.entity';
import { Person } from './persons/entities/person.entity';
import { PersonIdentity } from './persons/entities/person-identity.entity';
import { IdentitySighting } from './persons/entities/identity-sighting.entity';
import { PersonSuggestion } from './persons/entities/person-suggestion.entity';
import { PersonDecision } from './persons/entities/person-decision.entity';

/**
 * Every entity of the app, composed here at the top like the modules in app.module.ts: each module owns its entities
 * (see the README's Project layout); the data source needs them all.
 */
export const entities = [
  Box,
  MediaDevice,
  Identity,
  Face,
  RecognitionRecord,
  StoredImage,
  PendingImageRelease,
  OutboxEvent,
  ApiKey,
  AuditEntry,
  Alert,
  AlertRule,
  WebhookSubscription,
  WebhookDelivery,
  WebhookDeliveryAttempt,
  EventStreamToken,
  BrokerStream,
  Person,
  PersonIdentity,
  IdentitySighting,
  PersonSuggestion,
  PersonDecision,
];
