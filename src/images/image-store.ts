import { Readable } from 'node:stream';

export interface PutResult {
  sha256: string;
  byteSize: number;
  /** False when identical bytes were already stored. */
  created: boolean;
  /** The bytes, when put() moved them (the Buffer passed in is then empty): use these from now on. */
  bytes?: Buffer;
}

/**
 * Content-addressed image storage: bytes are named by their sha256, so the same image sent
 * twice is stored once and a reference can never point at other bytes.
 * Implementations must make put() durable (flushed) before resolving.
 */
export abstract class ImageStore {
  abstract put(bytes: Buffer): Promise<PutResult>;
  abstract read(sha256: string): Promise<Buffer | null>;
  abstract stream(sha256: string): Promise<Readable | null>;
  abstract exists(sha256: string): Promise<boolean>;
  abstract delete(sha256: string): Promise<void>;
  /** Throws when the store cannot take writes (health checks). */
  abstract checkWritable(): Promise<void>;

  /*
   * Retention and erasure delete an image in three steps: quarantine (the file leaves its place
   * atomically), decide in a transaction whether anything still references it, then discard or restore.
   * An ingest that found the file in place but committed after the decision notices it is gone and
   * writes it again (ImagesService.restoreIfPurged), so a purge never loses an acknowledged image.
   */
  /** Moves the image aside; false when it was not there. */
  abstract quarantine(sha256: string): Promise<boolean>;
  /** Puts a quarantined image back (a no-op if it was already rewritten in place). */
  abstract restoreQuarantined(sha256: string): Promise<void>;
  abstract discardQuarantined(sha256: string): Promise<void>;
  /** Images left in quarantine by an interrupted purge. */
  abstract listQuarantined(): Promise<string[]>;
}

export const SHA256_HEX = /^[0-9a-f]{64}$/;
