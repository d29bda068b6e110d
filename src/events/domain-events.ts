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

export class RecognitionRecordedEvent {
  static readonly type = 'recognition.recorded';
  constructor(readonly record: RecordRef, readonly meta?: DomainEventMeta) {}
}

export interface FaceSource {
  recordId: string;
  identityId: string;
  identityExternalId: string;
  /** Registered image if the box sent one, else the face crop. */
  imageSha256: string | null;
  occurredAt: number;
}

/** post_action 1001: the box registered a new stranger in its face library. */
export class StrangerRegisteredEvent {
  static readonly type = 'identity.stranger-registered';
  constructor(readonly face: FaceSource, readonly meta?: DomainEventMeta) {}
}

/** post_action 1002: the box replaced this identity's registered face. */
export class FaceLibraryUpdatedEvent {
  static readonly type = 'identity.face-library-updated';
  constructor(readonly face: FaceSource, readonly meta?: DomainEventMeta) {}
}

export class BlacklistSeenEvent {
  static readonly type = 'alert.blacklist-seen';
  constructor(readonly record: RecordRef, readonly meta?: DomainEventMeta) {}
}

export class VipSeenEvent {
  static readonly type = 'alert.vip-seen';
  constructor(readonly record: RecordRef, readonly meta?: DomainEventMeta) {}
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

/** An operator merged one identity into another (records and faces moved, source removed). */
export class IdentityMergedEvent {
  static readonly type = 'identity.merged';
  constructor(readonly merge: IdentityMerge, readonly meta?: DomainEventMeta) {}
}

export type DomainEvent =
  | RecognitionRecordedEvent
  | StrangerRegisteredEvent
  | FaceLibraryUpdatedEvent
  | BlacklistSeenEvent
  | VipSeenEvent
  | IdentityMergedEvent;

type EventClass = { type: string; new (body: never, meta?: DomainEventMeta): DomainEvent };

export const DOMAIN_EVENT_CLASSES: readonly EventClass[] = [
  RecognitionRecordedEvent,
  StrangerRegisteredEvent,
  FaceLibraryUpdatedEvent,
  BlacklistSeenEvent,
  VipSeenEvent,
  IdentityMergedEvent,
];

export function eventTypeOf(event: DomainEvent): string {
  return (event.constructor as EventClass).type;
}

/** The single constructor argument is the serialised body. */
export function serialiseEvent(event: DomainEvent): Record<string, unknown> {
  const { meta: _meta, ...body } = event as unknown as Record<string, unknown>;
  return body;
}

/** The event's one body object (record, face, merge…) inside a serialised payload. */
export function eventBody(payload: Record<string, unknown>): unknown {
  return Object.values(payload)[0];
}

export function rehydrateEvent(type: string, payload: Record<string, unknown>, meta: DomainEventMeta): DomainEvent | null {
  const cls = DOMAIN_EVENT_CLASSES.find((c) => c.type === type);
  if (!cls) return null;
  return new cls(eventBody(payload) as never, meta);
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
