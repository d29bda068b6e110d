import { Injectable } from '@nestjs/common';
import { EntityManager, In } from 'typeorm';
import { chunks } from '../common/chunks';
import { UnitOfWork } from '../database/unit-of-work';
import { DecodedImage } from '../recognition-records/recognition-record.types';
import { StoredImage } from './entities/stored-image.entity';
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

  /** Index rows for stored images, inside the caller's transaction. */
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

  /**
   * Removes the index rows of images being released (nothing references them any more), in the transaction that
   * decided so; their files are quarantined before and discarded after it (see ImageStore).
   */
  async release(manager: EntityManager, sha256s: string[]): Promise<void> {
    for (const shas of chunks(sha256s)) await manager.getRepository(StoredImage).delete({ sha256: In(shas) });
  }
}
