import { Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { EntityManager, In } from 'typeorm';
import { UnitOfWork } from '../database/unit-of-work';
import { StoredImage } from './entities/stored-image.entity';
import { sendStoredImage } from './image-response';
import { ImageStore } from './image-store';
import type { DecodedImage, StoredImageRef } from './images.types';

export type { StoredImageRef } from './images.types';

@Injectable()
export class ImagesService {
  constructor(
    private readonly store: ImageStore,
    private readonly uow: UnitOfWork,
  ) {}

  /** Writes the bytes durably to the store; call before the transaction that references them commits. */
  async write(image: DecodedImage): Promise<StoredImageRef> {
    const put = await this.store.put(image.bytes);
    return { sha256: put.sha256, contentType: image.contentType, byteSize: put.byteSize };
  }

  /**
   * After an ingest committed: an image that was already in the store when the ingest began may have
   * been purged (unreferenced at the time) before the commit. Write it again from the bytes in hand.
   */
  async restoreIfPurged(images: { ref: StoredImageRef; image: DecodedImage }[]): Promise<void> {
    for (const { ref, image } of images) {
      if (await this.store.exists(ref.sha256)) continue;
      await this.store.put(image.bytes);
      await this.uow.run((m) => this.index(m, [ref], Date.now()));
    }
  }

  /** Content type and size of those of these images that are indexed, by sha256 (one query for a whole page). */
  async describe(sha256s: string[]): Promise<Map<string, StoredImageRef>> {
    const unique = [...new Set(sha256s)];
    if (unique.length === 0) return new Map();
    const rows = await this.uow.dataSource.getRepository(StoredImage).find({
      select: { sha256: true, contentType: true, byteSize: true },
      where: { sha256: In(unique) },
    });
    return new Map(rows.map((r) => [r.sha256, { sha256: r.sha256, contentType: r.contentType, byteSize: Number(r.byteSize) }]));
  }

  /** The image's reference for sending; an image missing from the index is sent as application/octet-stream. */
  async ref(sha256: string): Promise<{ sha256: string; contentType: string }> {
    const meta = (await this.describe([sha256])).get(sha256);
    return { sha256, contentType: meta?.contentType ?? 'application/octet-stream' };
  }

  /** Answers an image endpoint with the stored bytes (ETag, 304, immutable caching); 404 image_released when gone. */
  send(req: Request, res: Response, image: { sha256: string; contentType: string }): Promise<void> {
    return sendStoredImage(this.store, req, res, image);
  }

  /** Index rows for stored images, inside the caller's transaction (raw SQL: ingest hot path, one upsert per image). */
  async index(manager: EntityManager, refs: StoredImageRef[], now: number): Promise<void> {
    const d = this.uow.dialect;
    const seen = new Set<string>();
    for (const ref of refs) {
      if (seen.has(ref.sha256)) continue;
      seen.add(ref.sha256);
      await manager.query(
        `INSERT INTO stored_images (sha256, content_type, byte_size, created_at) VALUES (${d.params(1, 4)})
         ON CONFLICT (sha256) DO NOTHING`,
        [ref.sha256, ref.contentType, ref.byteSize, now],
      );
    }
  }
}
