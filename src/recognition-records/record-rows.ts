import type { SelectQueryBuilder } from 'typeorm';
import { rowBool } from '../database/row-values';
import { RecognitionRecord } from './entities/recognition-record.entity';
import type { RecordDefect } from './recognition-record.types';
import { IMAGE_ROLES, ImageRole } from './recognition-record.types';

/** The entity property that holds each image role's sha256: the one place that pairs roles with columns. */
export const IMAGE_PROPERTY = {
  registered: 'regImageSha256',
  scene: 'spotImageSha256',
  infrared: 'irImageSha256',
  face: 'faceImageSha256',
} as const satisfies Record<ImageRole, keyof RecognitionRecord>;

/**
 * Properties read for the consumer API. The feature is deliberately absent: feature vectors leave the database
 * only through the biometric feature endpoint (the view says whether one exists, without reading it).
 */
const VIEW_PROPERTIES = [
  'id',
  'boxId',
  'mediaDeviceId',
  'deviceExternalId',
  'identityId',
  'identityExternalId',
  'identityName',
  'userType',
  'occurredAt',
  'enteredAt',
  'leftAt',
  'scoreRaw',
  'score',
  'postAction',
  'apiVersion',
  'attributes',
  'landmarks',
  'faceBox',
  ...Object.values(IMAGE_PROPERTY),
  'defects',
  'hasDefects',
  'extra',
  'sourceAddress',
  'receivedAt',
] as const satisfies readonly (keyof RecognitionRecord)[];

/** A record as the domain sees it (entity transformers have removed the drivers' differences). */
/** The columns every shape of a stored record shares as they are (a row to insert, a view to show). */
export interface RecordCore {
  id: string;
  boxId: string;
  mediaDeviceId: string;
  deviceExternalId: string;
  identityId: string | null;
  identityExternalId: string;
  identityName: string | null;
  userType: string | null;
  occurredAt: number;
  enteredAt: number | null;
  leftAt: number | null;
  scoreRaw: number | null;
  score: number | null;
  postAction: string | null;
  apiVersion: string | null;
  hasDefects: boolean;
  sourceAddress: string | null;
  receivedAt: number;
}

export interface RecordView extends RecordCore {
  attributes: Record<string, unknown> | null;
  landmarks: number[] | null;
  faceBox: number[] | null;
  images: Partial<Record<ImageRole, string>>;
  hasFeature: boolean;
  defects: RecordDefect[];
  extra: Record<string, unknown> | null;
}

/** Selects the view's columns of alias `r`, and whether a feature exists, on a query builder over records. */
export function selectRecordView(qb: SelectQueryBuilder<RecognitionRecord>): SelectQueryBuilder<RecognitionRecord> {
  return qb.select(VIEW_PROPERTIES.map((p) => `r.${p}`)).addSelect('CASE WHEN r.feature IS NULL THEN 0 ELSE 1 END', 'has_feature');
}

/** Runs a query built on selectRecordView and maps its rows. */
export async function readRecordViews(qb: SelectQueryBuilder<RecognitionRecord>): Promise<RecordView[]> {
  const { entities, raw } = await qb.getRawAndEntities<{ has_feature: unknown }>();
  // No joins: one raw row per entity, in the same order.
  return entities.map((r, i) => toRecordView(r, rowBool(raw[i].has_feature)));
}

function toRecordView(r: RecognitionRecord, hasFeature: boolean): RecordView {
  const images: Partial<Record<ImageRole, string>> = {};
  for (const role of IMAGE_ROLES) {
    const sha = r[IMAGE_PROPERTY[role]];
    if (sha) images[role] = sha;
  }
  return {
    id: r.id,
    boxId: r.boxId,
    mediaDeviceId: r.mediaDeviceId,
    deviceExternalId: r.deviceExternalId,
    identityId: r.identityId ?? null,
    identityExternalId: r.identityExternalId,
    identityName: r.identityName ?? null,
    userType: r.userType ?? null,
    occurredAt: r.occurredAt,
    enteredAt: r.enteredAt ?? null,
    leftAt: r.leftAt ?? null,
    scoreRaw: r.scoreRaw ?? null,
    score: r.score ?? null,
    postAction: r.postAction ?? null,
    apiVersion: r.apiVersion ?? null,
    attributes: (r.attributes as Record<string, unknown> | null) ?? null,
    landmarks: r.landmarks ?? null,
    faceBox: r.faceBox ?? null,
    images,
    hasFeature,
    defects: r.defects ?? [],
    hasDefects: r.hasDefects,
    extra: r.extra ?? null,
    sourceAddress: r.sourceAddress ?? null,
    receivedAt: r.receivedAt,
  };
}
