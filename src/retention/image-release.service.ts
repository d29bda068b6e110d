import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { UnitOfWork } from '../database/unit-of-work';
import { FaceLibraryService } from '../identities/face-library.service';
import { ImageStore } from '../images/image-store';
import { ImagesService, PendingRelease } from '../images/images.service';
import { RecordsStore } from '../recognition-records/records-store.service';

const CHUNK = 200;

/**
 * Deletes images nothing references any more (no record, no face), files and index rows. Records and faces
 * answer which images they still reference; the images module removes the index rows.
 * Safe beside ingest: see the quarantine protocol on ImageStore. Safe against a crash: a batch journals the
 * images it stops referencing in its own transaction (schedule), and the journal entry goes only once they are
 * released; finishInterrupted() completes what a dead process left.
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

  /** Journals the images a batch stops referencing, in the batch's transaction; release() them after its commit. */
  schedule(manager: EntityManager, candidates: Iterable<string | null | undefined>): Promise<PendingRelease | null> {
    return this.images.scheduleRelease(manager, [...new Set([...candidates].filter((s): s is string => !!s))]);
  }

  /** Deletes those of the scheduled images nothing references now, then their journal entry; returns how many. */
  async release(pending: PendingRelease | null): Promise<number> {
    if (!pending) return 0;
    let deleted = 0;
    for (let i = 0; i < pending.sha256s.length; i += CHUNK) deleted += await this.releaseChunk(pending.sha256s.slice(i, i + CHUNK));
    await this.images.releaseFinished(pending.id);
    return deleted;
  }

  /**
   * Finishes what interrupted runs left: images in quarantine, and journalled releases. One still in progress in
   * another run is released twice, which is harmless (same decision, the second finds nothing left to do).
   */
  async finishInterrupted(): Promise<number> {
    const shas = await this.store.listQuarantined();
    let deleted = 0;
    for (let i = 0; i < shas.length; i += CHUNK) deleted += await this.decide(shas.slice(i, i + CHUNK));
    let after = 0;
    for (;;) {
      const pending = await this.images.pendingReleases(after, 50);
      for (const p of pending) deleted += await this.release(p);
      if (pending.length < 50) return deleted;
      after = pending[pending.length - 1].id;
    }
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
