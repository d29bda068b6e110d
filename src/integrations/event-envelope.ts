import type { Type } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type {
  AlertAcknowledgement,
  AlertRef,
  BiometricsErasure,
  DomainEvent,
  DomainEventMap,
  DomainEventType,
  FaceSource,
  IdentityMerge,
  PersonLink,
  PersonSuggestion,
  PersonUnlink,
  RecordRef,
  RecordsDeletion,
} from '../events/domain-events';
import type { ImageRole } from '../recognition-records/recognition-record.types';

/**
 * The public contract of domain events: what SSE clients and webhook receivers get, as DTOs mapped field by field
 * from the internal events. The outbox payloads (src/events) may change shape; these may not without an API
 * change (pinned by test/event-envelope.e2e-spec.ts). Ids, names, times and image links only, never bytes.
 */

const link = (role: ImageRole) => ({ example: `/records/<id>/images/${role}` });

export class EventImageLinks {
  @ApiPropertyOptional(link('registered')) registered?: string;
  @ApiPropertyOptional(link('scene')) scene?: string;
  @ApiPropertyOptional(link('infrared')) infrared?: string;
  @ApiPropertyOptional(link('face')) face?: string;
}
export type ImageLinks = Partial<Record<ImageRole, string>>;

const IMAGES = {
  type: EventImageLinks,
  description:
    'Image endpoints of the record by role (biometric-reader); a role is absent when the record has no such image. Absent when the record is gone.',
};

/** The record an event is about (recognition.recorded and the alerts). */
abstract class RecordEventData {
  @ApiProperty({ format: 'uuid' }) recordId: string;
  @ApiProperty({ format: 'uuid' }) boxId: string;
  @ApiProperty() licenseKey: string;
  @ApiProperty({ format: 'uuid' }) mediaDeviceId: string;
  @ApiProperty() deviceExternalId: string;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) identityId: string | null;
  @ApiProperty() identityExternalId: string;
  @ApiProperty({ type: String, nullable: true }) identityName: string | null;
  @ApiProperty({ type: String, nullable: true }) userType: string | null;
  @ApiProperty({ type: String, nullable: true }) postAction: string | null;
  @ApiProperty({ type: 'integer', format: 'int64', description: 'Box event time, epoch ms.' }) occurredAt: number;
  @ApiProperty({ type: Number, nullable: true, description: 'Normalised 0-1.' }) score: number | null;
  @ApiProperty() hasDefects: boolean;
  @ApiPropertyOptional(IMAGES) images?: EventImageLinks;
}

export class RecognitionRecordedData extends RecordEventData {}
export class BlacklistSeenData extends RecordEventData {}
export class VipSeenData extends RecordEventData {}

/** A face-library change sent by the box. */
abstract class FaceEventData {
  @ApiProperty({ format: 'uuid' }) recordId: string;
  @ApiProperty({ format: 'uuid' }) identityId: string;
  @ApiProperty() identityExternalId: string;
  @ApiProperty({ type: String, nullable: true, description: 'sha256 of the registered image, else of the face crop; null once erased.' })
  imageSha256: string | null;
  @ApiProperty({ type: 'integer', format: 'int64', description: 'Box event time, epoch ms.' }) occurredAt: number;
  @ApiPropertyOptional(IMAGES) images?: EventImageLinks;
}

export class StrangerRegisteredData extends FaceEventData {}
export class FaceLibraryUpdatedData extends FaceEventData {}

export class IdentityMergedData {
  @ApiProperty({ format: 'uuid', description: 'The identity merged away (now an alias of the target).' }) sourceId: string;
  @ApiProperty() sourceExternalId: string;
  @ApiProperty({ format: 'uuid' }) targetId: string;
  @ApiProperty() targetExternalId: string;
  @ApiProperty({ type: 'integer' }) movedRecords: number;
  @ApiProperty({ type: 'integer' }) movedFaces: number;
  @ApiProperty({ description: 'Audit actor who requested the merge.' }) mergedBy: string;
}

const SEVERITY = { enum: ['info', 'warning', 'critical'] };

/** A rule raised an alert for a record (src/alerts). */
export class AlertRaisedData {
  @ApiProperty({ format: 'uuid' }) alertId: string;
  @ApiProperty({ format: 'uuid' }) ruleId: string;
  @ApiProperty() ruleName: string;
  @ApiProperty(SEVERITY) severity: string;
  @ApiProperty({ format: 'uuid' }) recordId: string;
  @ApiProperty({ format: 'uuid' }) boxId: string;
  @ApiProperty({ format: 'uuid' }) mediaDeviceId: string;
  @ApiProperty({ type: String, nullable: true, description: 'The person the identity belongs to; null without identity.' })
  personId: string | null;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) identityId: string | null;
  @ApiProperty() identityExternalId: string;
  @ApiProperty({ type: String, nullable: true }) identityName: string | null;
  @ApiProperty({ type: String, nullable: true }) userType: string | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Normalised 0-1.' }) score: number | null;
  @ApiProperty({ type: 'integer', format: 'int64', description: 'Box event time of the record, epoch ms.' }) occurredAt: number;
  @ApiProperty({ type: 'integer', format: 'int64', description: 'When the alert was raised, epoch ms.' }) raisedAt: number;
  @ApiPropertyOptional(IMAGES) images?: EventImageLinks;
}

/** An operator acknowledged an alert. */
export class AlertAcknowledgedData {
  @ApiProperty({ format: 'uuid' }) alertId: string;
  @ApiProperty({ format: 'uuid' }) ruleId: string;
  @ApiProperty({ format: 'uuid' }) recordId: string;
  @ApiProperty(SEVERITY) severity: string;
  @ApiProperty({ type: 'integer', format: 'int64', description: 'Epoch ms.' }) acknowledgedAt: number;
  @ApiProperty({ description: 'Audit actor who acknowledged.' }) acknowledgedBy: string;
  @ApiProperty({ type: String, nullable: true }) comment: string | null;
}

export class PersonIdentitiesLinkedData {
  @ApiProperty({ format: 'uuid', description: 'The person the identities joined.' }) personId: string;
  @ApiProperty({ type: [String], description: 'Identity ids that joined (see /identities).' }) identityIds: string[];
  @ApiProperty({ type: [String], description: 'Persons that no longer exist: their identities are in this one now.' })
  absorbedPersonIds: string[];
  @ApiProperty({ type: Number, nullable: true, description: 'Cosine similarity of an automatic link; null otherwise.' })
  similarity: number | null;
  @ApiProperty({ enum: ['face-match', 'operator', 'identity-merge'] }) reason: string;
  @ApiProperty({ type: String, nullable: true, description: 'Audit actor of an operator link or merge; null when automatic.' })
  linkedBy: string | null;
}

abstract class PersonSuggestionData {
  @ApiProperty({ format: 'uuid' }) suggestionId: string;
  @ApiProperty({ format: 'uuid' }) personId: string;
  @ApiProperty({ format: 'uuid' }) identityId: string;
  @ApiProperty({ description: 'Cosine similarity.' }) similarity: number;
}

export class PersonLinkSuggestedData extends PersonSuggestionData {}

export class PersonSuggestionRejectedData extends PersonSuggestionData {
  @ApiProperty({ description: 'Audit actor who rejected it.' }) rejectedBy: string;
}

export class PersonIdentityUnlinkedData {
  @ApiProperty({ format: 'uuid', description: 'The person the identity left.' }) personId: string;
  @ApiProperty({ format: 'uuid' }) identityId: string;
  @ApiProperty({ format: 'uuid', description: 'The identity’s own new person.' }) newPersonId: string;
  @ApiProperty({ description: 'Audit actor.' }) unlinkedBy: string;
}

/** An erasure batch: consumers holding copies of these records' images or features should drop them too. */
export class IdentityBiometricsErasedData {
  @ApiProperty({ format: 'uuid' }) identityId: string;
  @ApiProperty() identityExternalId: string;
  @ApiProperty({
    type: [String],
    description: 'Records whose images, feature vector and landmarks were cleared (one erasure batch, at most RETENTION_BATCH_SIZE).',
  })
  recordIds: string[];
  @ApiProperty({ description: 'Audit actor who requested the erasure.' }) erasedBy: string;
}

/** A retention batch: these records are gone. */
export class RetentionRecordsDeletedData {
  @ApiProperty({ type: [String], description: 'Records deleted, with their events (one retention batch, at most RETENTION_BATCH_SIZE).' })
  recordIds: string[];
  @ApiProperty({ type: 'integer', format: 'int64', description: 'Records with a box event time before this (epoch ms) are deleted.' })
  cutoff: number;
}

/** Event type -> its public `data`. */
export interface PublicEventDataMap {
  'recognition.recorded': RecognitionRecordedData;
  'identity.stranger-registered': StrangerRegisteredData;
  'identity.face-library-updated': FaceLibraryUpdatedData;
  'alert.blacklist-seen': BlacklistSeenData;
  'alert.vip-seen': VipSeenData;
  'identity.merged': IdentityMergedData;
  'alert.raised': AlertRaisedData;
  'alert.acknowledged': AlertAcknowledgedData;
  'person.identities-linked': PersonIdentitiesLinkedData;
  'person.link-suggested': PersonLinkSuggestedData;
  'person.suggestion-rejected': PersonSuggestionRejectedData;
  'person.identity-unlinked': PersonIdentityUnlinkedData;
  'identity.biometrics-erased': IdentityBiometricsErasedData;
  'retention.records-deleted': RetentionRecordsDeletedData;
}
export type PublicEventData = PublicEventDataMap[DomainEventType];

// Field by field, in the order consumers have always received them: a new internal field stays internal until
// it is added here (and to the DTO, the README and the pinning test).
const recordData = (r: RecordRef, images?: ImageLinks): RecordEventData => ({
  recordId: r.recordId,
  boxId: r.boxId,
  licenseKey: r.licenseKey,
  mediaDeviceId: r.mediaDeviceId,
  deviceExternalId: r.deviceExternalId,
  identityId: r.identityId,
  identityExternalId: r.identityExternalId,
  identityName: r.identityName,
  userType: r.userType,
  postAction: r.postAction,
  occurredAt: r.occurredAt,
  score: r.score,
  hasDefects: r.hasDefects,
  ...(images && { images }),
});

const faceData = (f: FaceSource, images?: ImageLinks): FaceEventData => ({
  recordId: f.recordId,
  identityId: f.identityId,
  identityExternalId: f.identityExternalId,
  imageSha256: f.imageSha256,
  occurredAt: f.occurredAt,
  ...(images && { images }),
});

const mergeData = (m: IdentityMerge): IdentityMergedData => ({
  sourceId: m.sourceId,
  sourceExternalId: m.sourceExternalId,
  targetId: m.targetId,
  targetExternalId: m.targetExternalId,
  movedRecords: m.movedRecords,
  movedFaces: m.movedFaces,
  mergedBy: m.mergedBy,
});

const alertRaisedData = (a: AlertRef, images?: ImageLinks): AlertRaisedData => ({
  alertId: a.alertId,
  ruleId: a.ruleId,
  ruleName: a.ruleName,
  severity: a.severity,
  recordId: a.recordId,
  boxId: a.boxId,
  mediaDeviceId: a.mediaDeviceId,
  personId: a.personId,
  identityId: a.identityId,
  identityExternalId: a.identityExternalId,
  identityName: a.identityName,
  userType: a.userType,
  score: a.score,
  occurredAt: a.occurredAt,
  raisedAt: a.raisedAt,
  ...(images && { images }),
});

const alertAcknowledgedData = (a: AlertAcknowledgement): AlertAcknowledgedData => ({
  alertId: a.alertId,
  ruleId: a.ruleId,
  recordId: a.recordId,
  severity: a.severity,
  acknowledgedAt: a.acknowledgedAt,
  acknowledgedBy: a.acknowledgedBy,
  comment: a.comment,
});

const linkData = (l: PersonLink): PersonIdentitiesLinkedData => ({
  personId: l.personId,
  identityIds: [...l.identityIds],
  absorbedPersonIds: [...l.absorbedPersonIds],
  similarity: l.similarity,
  reason: l.reason,
  linkedBy: l.linkedBy,
});

const suggestionData = (s: PersonSuggestion): PersonLinkSuggestedData => ({
  suggestionId: s.suggestionId,
  personId: s.personId,
  identityId: s.identityId,
  similarity: s.similarity,
});

const unlinkData = (u: PersonUnlink): PersonIdentityUnlinkedData => ({
  personId: u.personId,
  identityId: u.identityId,
  newPersonId: u.newPersonId,
  unlinkedBy: u.unlinkedBy,
});

const erasureData = (e: BiometricsErasure): IdentityBiometricsErasedData => ({
  identityId: e.identityId,
  identityExternalId: e.identityExternalId,
  recordIds: [...e.recordIds],
  erasedBy: e.erasedBy,
});

const deletionData = (d: RecordsDeletion): RetentionRecordsDeletedData => ({ recordIds: [...d.recordIds], cutoff: d.cutoff });

interface PublicEvent<K extends DomainEventType> {
  /** The DTO class: its schema is the event's `data` in the OpenAPI document. */
  dto: Type<PublicEventDataMap[K]>;
  /** `images`: links to the event's record images, when the event is about a record that still exists. */
  toData(event: DomainEventMap[K], images?: ImageLinks): PublicEventDataMap[K];
}

/** Every event type's public mapping (a type missing here does not compile). */
export const PUBLIC_EVENTS: { [K in DomainEventType]: PublicEvent<K> } = {
  'recognition.recorded': { dto: RecognitionRecordedData, toData: (e, images) => recordData(e.record, images) },
  'identity.stranger-registered': { dto: StrangerRegisteredData, toData: (e, images) => faceData(e.face, images) },
  'identity.face-library-updated': { dto: FaceLibraryUpdatedData, toData: (e, images) => faceData(e.face, images) },
  'alert.blacklist-seen': { dto: BlacklistSeenData, toData: (e, images) => recordData(e.record, images) },
  'alert.vip-seen': { dto: VipSeenData, toData: (e, images) => recordData(e.record, images) },
  'identity.merged': { dto: IdentityMergedData, toData: (e) => mergeData(e.merge) },
  'alert.raised': { dto: AlertRaisedData, toData: (e, images) => alertRaisedData(e.alert, images) },
  'alert.acknowledged': { dto: AlertAcknowledgedData, toData: (e) => alertAcknowledgedData(e.acknowledgement) },
  'person.identities-linked': { dto: PersonIdentitiesLinkedData, toData: (e) => linkData(e.link) },
  'person.link-suggested': { dto: PersonLinkSuggestedData, toData: (e) => suggestionData(e.suggestion) },
  'person.suggestion-rejected': {
    dto: PersonSuggestionRejectedData,
    toData: (e) => ({ ...suggestionData(e.suggestion), rejectedBy: e.suggestion.decidedBy ?? '' }),
  },
  'person.identity-unlinked': { dto: PersonIdentityUnlinkedData, toData: (e) => unlinkData(e.unlink) },
  'identity.biometrics-erased': { dto: IdentityBiometricsErasedData, toData: (e) => erasureData(e.erasure) },
  'retention.records-deleted': { dto: RetentionRecordsDeletedData, toData: (e) => deletionData(e.deletion) },
};

export const PUBLIC_EVENT_DTOS: Type[] = Object.values(PUBLIC_EVENTS).map((p) => p.dto);

export function toPublicData<K extends DomainEventType>(event: DomainEventMap[K], images?: ImageLinks): PublicEventDataMap[K] {
  // TypeScript cannot correlate event.type with the table entry it selects; the table itself is checked per type.
  const mapping = PUBLIC_EVENTS[event.type as K] as PublicEvent<K>;
  return mapping.toData(event, images);
}

/** What consumers receive for one domain event (SSE data and webhook body). */
export interface EventEnvelope {
  /** Outbox id as a string: the SSE event id and the resume point. */
  id: string;
  type: string;
  /** When the event was written (ISO 8601). */
  timestamp: string;
  /** Empty for an event type this release does not know (written by a newer one). */
  data: PublicEventData | Record<string, never>;
}

export function toEnvelope(
  row: { id: number; type: string; createdAt: number },
  event: DomainEvent | null,
  images?: ImageLinks,
): EventEnvelope {
  return {
    id: String(row.id),
    type: row.type,
    timestamp: new Date(row.createdAt).toISOString(),
    data: event ? toPublicData(event, images) : {},
  };
}
