/** Domain types for ingestion: the wire format is mapped into these at the box edge. */
import type { MediaDeviceReport } from '../devices/devices.types';
import type { DecodedImage } from '../images/images.types';

// Owned by the devices and images modules; named here too because the ingest command carries them.
export type { DecodedImage, MediaDeviceReport };

export interface RecordDefect {
  /** Wire field the defect concerns, e.g. "spot_image" or "recognize_face_attr.feature_base64_str". */
  field: string;
  code: string;
  message: string;
}

export interface FaceAttributes {
  mask: string | null;
  gender: string | null;
  hat: string | null;
  age: string | null;
  glasses: string | null;
  expression: string | null;
}

export type ImageRole = 'registered' | 'scene' | 'infrared' | 'face';

export const IMAGE_ROLES: readonly ImageRole[] = ['registered', 'scene', 'infrared', 'face'];

/** One event, as the domain understands it. */
export interface IngestRecognitionCommand {
  licenseKey: string;
  apiVersion: string | null;
  sourceAddress: string | null;
  mediaDevice: MediaDeviceReport;
  identityExternalId: string;
  identityName: string | null;
  userType: string | null;
  /** The event's time: the box's timestamp, or the receive time when that was outside the accepted window. */
  occurredAt: number;
  /** The box's timestamp exactly as sent: with box, media device and identity, the event's natural key. */
  boxTimestamp: number;
  enteredAt: number | null;
  leftAt: number | null;
  scoreRaw: number | null;
  score: number | null;
  postAction: string | null;
  attributes: FaceAttributes | null;
  landmarks: number[] | null;
  faceBox: number[] | null;
  feature: Buffer | null;
  images: Partial<Record<ImageRole, DecodedImage>>;
  defects: RecordDefect[];
  extra: Record<string, unknown> | null;
}

export interface IngestResult {
  stored: number;
  duplicates: number;
  recordIds: string[];
}
