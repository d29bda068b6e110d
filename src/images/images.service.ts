import { Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { EntityManager, In, MoreThan } from 'typeorm';
import { chunks } from '../common/chunks';
import { UnitOfWork } from '../database/unit-of-work';
import { PendingImageRelease } from './entities/pending-image-release.entity';
import { StoredImage } from './entities/stored-image.entity';
import { ImageStore } from './image-store';
import { sendStoredImage } from './image-response';
import type { DecodedImage, StoredImageRef } from './images.types';

/** Images a batch stopped referencing, journalled until released (see PendingImageRelease). */
export interface PendingRelease {
  id: number;
  sha256s: string[];
}

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
    // The store may have moved the bytes (to its writer thread and back): the image holds them again.
    if (put.bytes) image.bytes = put.bytes;
    return { sha256: put.sha256, contentType: image.contentType, byteSize: put.byteSize };
  }

  /**
   * After an ingest committed: an image that was already in the store when the ingest began may have
   * been purged (unreferenced at the time) before the commit. Write it again from the bytes in hand.
   */
  async restoreIfPurged(images: { ref: StoredImageRef; image: DecodedImage }[]): Promise<void> {
    for (const { ref, image } of images) {
      if (await this.store.exists(ref.sha256)) continue;
      await this.write(image);
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
    const unique = new Map(refs.map((r) => [r.sha256, r]));
    const rows = [...unique.values()]
      .sort((a, b) => (a.sha256 < b.sha256 ? -1 : a.sha256 > b.sha256 ? 1 : 0))
      .map((r) => [r.sha256, r.contentType, r.byteSize, now]);
    for (const chunk of this.uow.dialect.valuesChunks(rows, 4)) {
      await manager.query(
        `INSERT INTO stored_images (sha256, content_type, byte_size, created_at) VALUES ${chunk.sql}
         ON CONFLICT (sha256) DO NOTHING`,
        chunk.params,
      );
    }
  }

  /**
   * Removes the index rows of images being released (nothing references them any more), in the transaction that
   * decided so; their files are quarantined before and discarded after it (see ImageStore).
   */
  async release(manager: EntityManager, sha256s: string[]): Promise<void> {
    for (const shas of chunks(sha256s)) await manager.getRepository(StoredImage).delete({ sha256: In(shas) });
  }

  /**
   * Journals images a batch stops referencing, in the batch's own transaction: if the process dies before they
   * are released, the next run finds them here (pendingReleases) instead of leaving them orphaned.
   */
  async scheduleRelease(manager: EntityManager, sha256s: string[]): Promise<PendingRelease | null> {
    if (sha256s.length === 0) return null;
    const result = await manager.getRepository(PendingImageRelease).insert({ sha256s, createdAt: Date.now() });
    return { id: Number(result.identifiers[0].id), sha256s };
  }

  /** Releases journalled but not finished (a crash, or another run in progress) after id `after`, oldest first. */
  async pendingReleases(after: number, limit: number): Promise<PendingRelease[]> {
    const rows = await this.uow.dataSource
      .getRepository(PendingImageRelease)
      .find({ where: { id: MoreThan(after) }, order: { id: 'ASC' }, take: limit });
    return rows.map((r) => ({ id: Number(r.id), sha256s: r.sha256s }));
  }

  /** The journalled release is done. */
  async releaseFinished(id: number): Promise<void> {
    await this.uow.run((m) => m.getRepository(PendingImageRelease).delete({ id }));
  }
}
