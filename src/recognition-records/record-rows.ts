import { rowBool, rowJson, rowNumber } from '../database/row-values';
import type { RecordDefect } from './recognition-record.types';
import { IMAGE_ROLES, ImageRole } from './recognition-record.types';

/**
 * Columns read for the consumer API. The feature column is deliberately absent: feature vectors
 * leave the database only through the biometric feature endpoint.
 */
export const RECORD_COLUMNS = [
  'id',
  'box_id',
  'media_device_id',
  'device_external_id',
  'identity_id',
  'identity_external_id',
  'identity_name',
  'user_type',
  'occurred_at',
  'entered_at',
  'left_at',
  'score_raw',
  'score',
  'post_action',
  'api_version',
  'attributes',
  'landmarks',
  'face_box',
  'reg_image_sha256',
  'spot_image_sha256',
  'ir_image_sha256',
  'face_image_sha256',
  'defects',
  'has_defects',
  'extra',
  'source_address',
  'received_at',
] as const;

export const IMAGE_COLUMN: Record<ImageRole, string> = {
  registered: 'reg_image_sha256',
  scene: 'spot_image_sha256',
  infrared: 'ir_image_sha256',
  face: 'face_image_sha256',
};

/** SELECT list for alias r, plus whether a feature exists (without reading it). */
export function recordSelect(alias = 'r'): string {
  return [...RECORD_COLUMNS.map((c) => `${alias}.${c}`), `CASE WHEN ${alias}.feature IS NULL THEN 0 ELSE 1 END AS has_feature`].join(', ');
}

export type RecordRow = Record<string, unknown>;

/** A record row as the domain sees it, with drivers' differences (int8 strings, 0/1 booleans, JSON text) removed. */
export interface RecordView {
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
  attributes: Record<string, unknown> | null;
  landmarks: number[] | null;
  faceBox: number[] | null;
  images: Partial<Record<ImageRole, string>>;
  hasFeature: boolean;
  defects: RecordDefect[];
  hasDefects: boolean;
  extra: Record<string, unknown> | null;
  sourceAddress: string | null;
  receivedAt: number;
}

export function toRecordView(row: RecordRow): RecordView {
  const images: Partial<Record<ImageRole, string>> = {};
  for (const role of IMAGE_ROLES) {
    const sha = row[IMAGE_COLUMN[role]];
    if (typeof sha === 'string') images[role] = sha;
  }
  return {
    id: row.id as string,
    boxId: row.box_id as string,
    mediaDeviceId: row.media_device_id as string,
    deviceExternalId: row.device_external_id as string,
    identityId: (row.identity_id as string | null) ?? null,
    identityExternalId: row.identity_external_id as string,
    identityName: (row.identity_name as string | null) ?? null,
    userType: (row.user_type as string | null) ?? null,
    occurredAt: Number(row.occurred_at),
    enteredAt: rowNumber(row.entered_at),
    leftAt: rowNumber(row.left_at),
    scoreRaw: rowNumber(row.score_raw),
    score: rowNumber(row.score),
    postAction: (row.post_action as string | null) ?? null,
    apiVersion: (row.api_version as string | null) ?? null,
    attributes: rowJson(row.attributes),
    landmarks: rowJson(row.landmarks),
    faceBox: rowJson(row.face_box),
    images,
    hasFeature: rowBool(row.has_feature),
    defects: rowJson<RecordDefect[]>(row.defects) ?? [],
    hasDefects: rowBool(row.has_defects),
    extra: rowJson(row.extra),
    sourceAddress: (row.source_address as string | null) ?? null,
    receivedAt: Number(row.received_at),
  };
}
