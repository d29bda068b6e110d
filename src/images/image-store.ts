import { Readable } from 'node:stream';

export interface PutResult {
  sha256: string;
  byteSize: number;
  /** False when identical bytes were already stored. */
  created: boolean;
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
}

export const SHA256_HEX = /^[0-9a-f]{64}$/;
