/** The command ingestion takes (the box edge maps the wire format into it) and its result. */
import type {
  DecodedImage,
  FaceAttributes,
  ImageRole,
  MediaDeviceReport,
  RecordDefect,
} from '../recognition-records/recognition-record.types';

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
