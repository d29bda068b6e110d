import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { UnitOfWork } from '../database/unit-of-work';
import { DecodedImage } from '../recognition-records/recognition-record.types';
import { ImageStore } from './image-store';

export interface StoredImageRef {
  sha256: string;
  contentType: string;
  byteSize: number;
}

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

  /** Index rows for stored images, inside the caller's transaction: one statement, rows in hash order (lock order). */
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
}
