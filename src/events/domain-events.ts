/**
 * Domain events. Each is written to the outbox with the change that caused it and relayed to
 * @nestjs/event-emitter listeners after commit, at least once: listeners must be idempotent.
 * Payloads carry ids and image references, never image bytes or feature vectors.
 */

export interface DomainEventMeta {
  /** Outbox row id: stable across redeliveries, usable as an idempotency key. */
  eventId: number;
  occurredAt: number;
}

export interface RecordRef {
  recordId: string;
  boxId: string;
  licenseKey: string;
  mediaDeviceId: string;
  deviceExternalId: string;
  identityId: string | null;
  identityExternalId: string;
  identityName: string | null;
  userType: string | null;
  postAction: string | null;
  /** Box event time, epoch ms. */
  occurredAt: number;
  score: number | null;
  hasDefects: boolean;
}

/** Events about one stored record: the outbox payload is `{ record }`. */
abstract class RecordEvent {
  constructor(
    readonly record: RecordRef,
    readonly meta?: DomainEventMeta,
  ) {}

  toPayload(): { record: RecordRef } {
    return { record: this.record };
  }

  static fromPayload<E>(
    this: new (record: RecordRef, meta?: DomainEventMeta) => E,
    payload: { record: RecordRef },
    meta: DomainEventMeta,
  ): E {
    return new this(payload.record, meta);
  }
}

export class RecognitionRecordedEvent extends RecordEvent {
  static readonly type = 'recognition.recorded';
  /** The discriminant: events of the same payload shape are still different types to the compiler. */
  readonly type = RecognitionRecordedEvent.type;
}

export interface FaceSource {
  recordId: string;
  identityId: string;
  identityExternalId: string;
  /** Registered image if the box sent one, else the face crop. */
  imageSha256: string | null;
  occurredAt: number;
}

/** Face-library changes sent by the box: the outbox payload is `{ face }`. */
abstract class FaceEvent {
  constructor(
    readonly face: FaceSource,
    readonly meta?: DomainEventMeta,
  ) {}

  toPayload(): { face: FaceSource } {
    return { face: this.face };
  }

  static fromPayload<E>(
    this: new (face: FaceSource, meta?: DomainEventMeta) => E,
    payload: { face: FaceSource },
    meta: DomainEventMeta,
  ): E {
    return new this(payload.face, meta);
  }
}

/** post_action 1001: the box registered a new stranger in its face library. */
export class StrangerRegisteredEvent extends FaceEvent {
  static readonly type = 'identity.stranger-registered';
  readonly type = StrangerRegisteredEvent.type;
}

/** post_action 1002: the box replaced this identity's registered face. */
export class FaceLibraryUpdatedEvent extends FaceEvent {
  static readonly type = 'identity.face-library-updated';
  readonly type = FaceLibraryUpdatedEvent.type;
}

export class BlacklistSeenEvent extends RecordEvent {
  static readonly type = 'alert.blacklist-seen';
  readonly type = BlacklistSeenEvent.type;
}

export class VipSeenEvent extends RecordEvent {
  static readonly type = 'alert.vip-seen';
  readonly type = VipSeenEvent.type;
}

export interface IdentityMerge {
  /** The identity merged away: gone from the API, kept only as an alias of the target. */
  sourceId: string;
  sourceExternalId: string;
  /** The identity that now holds the source's records and faces. */
  targetId: string;
  targetExternalId: string;
  movedRecords: number;
  movedFaces: number;
  /** Audit actor who requested the merge. */
  mergedBy: string;
}

/** An operator merged one identity into another (records and faces moved, source removed). Payload `{ merge }`. */
export class IdentityMergedEvent {
  static readonly type = 'identity.merged';
  readonly type = IdentityMergedEvent.type;
  constructor(
    readonly merge: IdentityMerge,
    readonly meta?: DomainEventMeta,
  ) {}

  toPayload(): { merge: IdentityMerge } {
    return { merge: this.merge };
  }

  static fromPayload(payload: { merge: IdentityMerge }, meta: DomainEventMeta): IdentityMergedEvent {
    return new IdentityMergedEvent(payload.merge, meta);
  }
}

/** An alert a rule raised for one record (src/alerts). Ids, names and times only. */
export interface AlertRef {
  alertId: string;
  ruleId: string;
  ruleName: string;
  severity: string;
  recordId: string;
  boxId: string;
  mediaDeviceId: string;
  /** The person the identity belongs to (see src/alerts/person-lookup.types.ts); null without identity. */
  personId: string | null;
  identityId: string | null;
  identityExternalId: string;
  identityName: string | null;
  userType: string | null;
  score: number | null;
  /** Box event time of the record, epoch ms. */
  occurredAt: number;
  /** When the alert was raised, epoch ms. */
  raisedAt: number;
}

/** A rule matched a record: one alert row per (rule, record). Payload `{ alert }`; the outbox aggregate is the record. */
export class AlertRaisedEvent {
  static readonly type = 'alert.raised';
  readonly type = AlertRaisedEvent.type;
  constructor(
    readonly alert: AlertRef,
    readonly meta?: DomainEventMeta,
  ) {}

  toPayload(): { alert: AlertRef } {
    return { alert: this.alert };
  }

  static fromPayload(payload: { alert: AlertRef }, meta: DomainEventMeta): AlertRaisedEvent {
    return new AlertRaisedEvent(payload.alert, meta);
  }
}

export interface AlertAcknowledgement {
  alertId: string;
  ruleId: string;
  recordId: string;
  severity: string;
  acknowledgedAt: number;
  /** Audit actor who acknowledged. */
  acknowledgedBy: string;
  comment: string | null;
}

/** An operator acknowledged an alert. Payload `{ acknowledgement }`; the outbox aggregate is the alert's record. */
export class AlertAcknowledgedEvent {
  static readonly type = 'alert.acknowledged';
  readonly type = AlertAcknowledgedEvent.type;
  constructor(
    readonly acknowledgement: AlertAcknowledgement,
    readonly meta?: DomainEventMeta,
  ) {}

  toPayload(): { acknowledgement: AlertAcknowledgement } {
    return { acknowledgement: this.acknowledgement };
  }

  static fromPayload(payload: { acknowledgement: AlertAcknowledgement }, meta: DomainEventMeta): AlertAcknowledgedEvent {
    return new AlertAcknowledgedEvent(payload.acknowledgement, meta);
  }
}

/** Identities joined one person (automatically by face, by an operator, or by an identity merge). Payload `{ link }`. */
export interface PersonLink {
  personId: string;
  /** The identities that joined the person. */
  identityIds: string[];
  /** Persons that ceased to exist because their identities joined this one. */
  absorbedPersonIds: string[];
  /** Cosine similarity of the automatic match; null for an operator's link or a merge. */
  similarity: number | null;
  reason: 'face-match' | 'operator' | 'identity-merge';
  /** Audit actor for operator links and merges; null when automatic. */
  linkedBy: string | null;
}

export class PersonIdentitiesLinkedEvent {
  static readonly type = 'person.identities-linked';
  readonly type = PersonIdentitiesLinkedEvent.type;
  constructor(
    readonly link: PersonLink,
    readonly meta?: DomainEventMeta,
  ) {}

  toPayload(): { link: PersonLink } {
    return { link: this.link };
  }

  static fromPayload(payload: { link: PersonLink }, meta: DomainEventMeta): PersonIdentitiesLinkedEvent {
    return new PersonIdentitiesLinkedEvent(payload.link, meta);
  }
}

/** A suggested link, or an operator's answer to one. */
export interface PersonSuggestion {
  suggestionId: string;
  personId: string;
  identityId: string;
  similarity: number;
  /** Audit actor who rejected it (person.suggestion-rejected); null for a new suggestion. */
  decidedBy: string | null;
}

/** An identity's first face resembles a person's, below the link threshold: an operator should decide. Payload `{ suggestion }`. */
export class PersonLinkSuggestedEvent {
  static readonly type = 'person.link-suggested';
  readonly type = PersonLinkSuggestedEvent.type;
  constructor(
    readonly suggestion: PersonSuggestion,
    readonly meta?: DomainEventMeta,
  ) {}

  toPayload(): { suggestion: PersonSuggestion } {
    return { suggestion: this.suggestion };
  }

  static fromPayload(payload: { suggestion: PersonSuggestion }, meta: DomainEventMeta): PersonLinkSuggestedEvent {
    return new PersonLinkSuggestedEvent(payload.suggestion, meta);
  }
}

/** An operator rejected a suggestion: that identity is never linked to that person automatically. Payload `{ suggestion }`. */
export class PersonSuggestionRejectedEvent {
  static readonly type = 'person.suggestion-rejected';
  readonly type = PersonSuggestionRejectedEvent.type;
  constructor(
    readonly suggestion: PersonSuggestion,
    readonly meta?: DomainEventMeta,
  ) {}

  toPayload(): { suggestion: PersonSuggestion } {
    return { suggestion: this.suggestion };
  }

  static fromPayload(payload: { suggestion: PersonSuggestion }, meta: DomainEventMeta): PersonSuggestionRejectedEvent {
    return new PersonSuggestionRejectedEvent(payload.suggestion, meta);
  }
}

export interface PersonUnlink {
  /** The person the identity left. */
  personId: string;
  identityId: string;
  /** The identity's own new person. */
  newPersonId: string;
  unlinkedBy: string;
}

/** An operator took an identity out of a person: it is its own person again, never re-linked there automatically. Payload `{ unlink }`. */
export class PersonIdentityUnlinkedEvent {
  static readonly type = 'person.identity-unlinked';
  readonly type = PersonIdentityUnlinkedEvent.type;
  constructor(
    readonly unlink: PersonUnlink,
    readonly meta?: DomainEventMeta,
  ) {}

  toPayload(): { unlink: PersonUnlink } {
    return { unlink: this.unlink };
  }

  static fromPayload(payload: { unlink: PersonUnlink }, meta: DomainEventMeta): PersonIdentityUnlinkedEvent {
    return new PersonIdentityUnlinkedEvent(payload.unlink, meta);
  }
}

export interface BiometricsErasure {
  identityId: string;
  identityExternalId: string;
  /** The records of one erasure batch (at most RETENTION_BATCH_SIZE) whose images, feature and landmarks were cleared. */
  recordIds: string[];
  /** Audit actor who requested the erasure. */
  erasedBy: string;
}

/**
 * An erasure cleared the biometrics of some of an identity's records: one event per batch, in the batch's
 * transaction, so that every instance drops their vectors from its face index. Payload `{ erasure }`; the outbox
 * aggregate is the identity.
 */
export class IdentityBiometricsErasedEvent {
  static readonly type = 'identity.biometrics-erased';
  readonly type = IdentityBiometricsErasedEvent.type;
  constructor(
    readonly erasure: BiometricsErasure,
    readonly meta?: DomainEventMeta,
  ) {}

  toPayload(): { erasure: BiometricsErasure } {
    return { erasure: this.erasure };
  }

  static fromPayload(payload: { erasure: BiometricsErasure }, meta: DomainEventMeta): IdentityBiometricsErasedEvent {
    return new IdentityBiometricsErasedEvent(payload.erasure, meta);
  }
}

export interface RecordsDeletion {
  /** The records of one retention batch (at most RETENTION_BATCH_SIZE), deleted with their outbox events. */
  recordIds: string[];
  /** Records with a box event time before this (epoch ms) are deleted. */
  cutoff: number;
}

/**
 * Retention deleted records: one event per batch, in the batch's transaction (the records' own events go with them),
 * so that every instance drops their vectors from its face index. Payload `{ deletion }`; the outbox aggregate is
 * `retention`.
 */
export class RetentionRecordsDeletedEvent {
  static readonly type = 'retention.records-deleted';
  readonly type = RetentionRecordsDeletedEvent.type;
  constructor(
    readonly deletion: RecordsDeletion,
    readonly meta?: DomainEventMeta,
  ) {}

  toPayload(): { deletion: RecordsDeletion } {
    return { deletion: this.deletion };
  }

  static fromPayload(payload: { deletion: RecordsDeletion }, meta: DomainEventMeta): RetentionRecordsDeletedEvent {
    return new RetentionRecordsDeletedEvent(payload.deletion, meta);
  }
}

/** Every domain event class; the outbox `type` column is the class's static `type`. */
export const DOMAIN_EVENT_CLASSES = [
  RecognitionRecordedEvent,
  StrangerRegisteredEvent,
  FaceLibraryUpdatedEvent,
  BlacklistSeenEvent,
  VipSeenEvent,
  IdentityMergedEvent,
  AlertRaisedEvent,
  AlertAcknowledgedEvent,
  PersonIdentitiesLinkedEvent,
  PersonLinkSuggestedEvent,
  PersonSuggestionRejectedEvent,
  PersonIdentityUnlinkedEvent,
  IdentityBiometricsErasedEvent,
  RetentionRecordsDeletedEvent,
] as const;

type DomainEventClass = (typeof DOMAIN_EVENT_CLASSES)[number];

/** Event type name -> event: what `@OnDomainEvent(type)` hands its listener. */
export type DomainEventMap = { [C in DomainEventClass as C['type']]: InstanceType<C> };
export type DomainEventType = keyof DomainEventMap;
export type DomainEvent = DomainEventMap[DomainEventType];

/** The JSON stored in `outbox_events.payload` per type. Rows outlive releases: change these shapes compatibly only. */
export type DomainEventPayload<K extends DomainEventType = DomainEventType> = ReturnType<DomainEventMap[K]['toPayload']>;

export const DOMAIN_EVENT_TYPES: readonly DomainEventType[] = DOMAIN_EVENT_CLASSES.map((c) => c.type);

export function isDomainEventType(type: string): type is DomainEventType {
  return (DOMAIN_EVENT_TYPES as readonly string[]).includes(type);
}

export function isDomainEvent(value: unknown): value is DomainEvent {
  return DOMAIN_EVENT_CLASSES.some((c) => value instanceof c);
}

export function eventTypeOf(event: DomainEvent): DomainEventType {
  return event.type;
}

/** The outbox payload of an event (without meta, which comes from the outbox row). */
export function serialiseEvent(event: DomainEvent): DomainEventPayload {
  return event.toPayload();
}

/** The event a stored outbox row holds, or null for a type this release does not know. */
export function rehydrateEvent(type: string, payload: Record<string, unknown>, meta: DomainEventMeta): DomainEvent | null {
  const cls = DOMAIN_EVENT_CLASSES.find((c) => c.type === type);
  if (!cls) return null;
  // The row's type says which payload shape it holds.
  return (cls.fromPayload as (payload: unknown, meta: DomainEventMeta) => DomainEvent).call(cls, payload, meta);
}

/**
 * A copy of an event payload or consumer envelope without image references (image hashes, image links), for
 * erasure; ids, names and times stay so streams and delivery logs keep every event. Null when nothing changed.
 */
export function withoutImageReferences(value: unknown): unknown {
  let changed = false;
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (!v || typeof v !== 'object') return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (/sha256$/i.test(k) && x !== null) {
        out[k] = null;
        changed = true;
      } else if (k === 'images' && x && typeof x === 'object' && Object.keys(x).length > 0) {
        out[k] = {};
        changed = true;
      } else out[k] = walk(x);
    }
    return out;
  };
  const result = walk(value);
  return changed ? result : null;
}
