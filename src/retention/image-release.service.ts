import { Injectable } from '@nestjs/common';
import { UnitOfWork } from '../database/unit-of-work';
import { ImageStore } from '../images/image-store';

const IMAGE_COLUMNS = ['reg_image_sha256', 'spot_image_sha256', 'ir_image_sha256', 'face_image_sha256'] as const;
const CHUNK = 200;

/**
 * Deletes images nothing references any more (no record, no face), files and stored_images rows.
 * Safe beside ingest: see the quarantine protocol on ImageStore.
 */
@Injectable()
export class ImageReleaseService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly store: ImageStore,
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
    const referenced = await this.referenced(this.uow.dataSource, shas);
    const free = shas.filter((s) => !referenced.has(s));
    if (free.length === 0) return 0;
    for (const sha of free) await this.store.quarantine(sha);
    return this.decide(free);
  }

  /** For quarantined images: delete the row and the file if still unreferenced, else put the file back. */
  private async decide(shas: string[]): Promise<number> {
    const d = this.uow.dialect;
    const free = await this.uow.run(async (m) => {
      const referenced = await this.referenced(m, shas);
      const free = shas.filter((s) => !referenced.has(s));
      if (free.length > 0) await m.query(`DELETE FROM stored_images WHERE sha256 IN (${d.params(1, free.length)})`, free);
      return free;
    });
    const freeSet = new Set(free);
    for (const sha of shas) {
      if (freeSet.has(sha)) await this.store.discardQuarantined(sha);
      else await this.store.restoreQuarantined(sha);
    }
    return free.length;
  }

  private async referenced(q: { query: (sql: string, params: unknown[]) => Promise<unknown> }, shas: string[]): Promise<Set<string>> {
    const d = this.uow.dialect;
    const list = d.params(1, shas.length);
    const parts = [
      ...IMAGE_COLUMNS.map((c) => `SELECT ${c} AS sha FROM recognition_records WHERE ${c} IN (${list})`),
      `SELECT image_sha256 AS sha FROM faces WHERE image_sha256 IN (${list})`,
    ];
    // PostgreSQL reuses $1..$n in every part; SQLite's ? placeholders are consumed in order.
    const params = d.kind === 'postgres' ? shas : parts.flatMap(() => shas);
    const rows = (await q.query(parts.join(' UNION '), params)) as { sha: string }[];
    return new Set(rows.map((r) => r.sha));
  }
}
