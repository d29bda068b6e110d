import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { UnitOfWork } from '../database/unit-of-work';
import { FaceLibraryService } from '../identities/face-library.service';
import { ImageStore } from '../images/image-store';
import { ImagesService } from '../images/images.service';
import { RecordsStore } from '../recognition-records/records-store.service';

const CHUNK = 200;

/**
 * Deletes images nothing references any more (no record, no face), files and index rows. Records and faces
 * answer which images they still reference; the images module removes the index rows.
 * Safe beside ingest: see the quarantine protocol on ImageStore.
 */
@Injectable()
export class ImageReleaseService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly store: ImageStore,
    private readonly images: ImagesService,
    private readonly records: RecordsStore,
    private readonly faces: FaceLibraryService,
  ) {}

  /** Returns how many images were deleted. */
  async release(candidates: Iterable<string | null | undefined>): Promise<number> {
    const unique = [...new Set([...candidates].filter((s): s is string => !!s))];
    let deleted = 0;
    for (let i = 0; i < unique.length; i += CHUNK) deleted += await this.releaseChunk(unique.slice(i, i + CHUNK));
    return deleted;
  }

  /** Finishes what an interrupted run left in quarantine. */
  async recoverQuarantine(): Promise<void> {
    const shas = await this.store.listQuarantined();
    for (let i = 0; i < shas.length; i += CHUNK) await this.decide(shas.slice(i, i + CHUNK));
  }

  private async releaseChunk(shas: string[]): Promise<number> {
    // Cheap pre-check so images shared by many records (a registered photo) are not moved around.
    const referenced = await this.referenced(this.uow.dataSource.manager, shas);
    const free = shas.filter((s) => !referenced.has(s));
    if (free.length === 0) return 0;
    for (const sha of free) await this.store.quarantine(sha);
    return this.decide(free);
  }

  /** For quarantined images: delete the row and the file if still unreferenced, else put the file back. */
  private async decide(shas: string[]): Promise<number> {
    const free = await this.uow.run(async (m) => {
      const referenced = await this.referenced(m, shas);
      const free = shas.filter((s) => !referenced.has(s));
      await this.images.release(m, free);
      return free;
    });
    const freeSet = new Set(free);
    for (const sha of shas) {
      if (freeSet.has(sha)) await this.store.discardQuarantined(sha);
      else await this.store.restoreQuarantined(sha);
    }
    return free.length;
  }

  private async referenced(m: EntityManager, shas: string[]): Promise<Set<string>> {
    const byRecords = await this.records.referencedImages(m, shas);
    const byFaces = await this.faces.referencedImages(m, shas);
    return new Set([...byRecords, ...byFaces]);
  }
}
