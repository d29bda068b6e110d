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
