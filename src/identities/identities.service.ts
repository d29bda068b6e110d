import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { UnitOfWork } from '../database/unit-of-work';

export interface IdentitySighting {
  externalId: string;
  name: string | null;
  userType: string | null;
  /** Box event time; an older event never overwrites what a newer one said. */
  seenAt: number;
  now: number;
}

/** An identity as other modules show it (persons): names and the current face's reference, no biometrics. */
export interface IdentitySummary {
  id: string;
  externalId: string;
  name: string | null;
  userType: string | null;
  firstSeenAt: number;
  lastSeenAt: number;
  currentFace: { id: string; imageUrl: string | null; capturedAt: number } | null;
}

@Injectable()
export class IdentitiesService {
  constructor(private readonly uow: UnitOfWork) {}

  /** Insert-or-update the identity in the caller's transaction; returns its id. */
  async recordSighting(manager: EntityManager, s: IdentitySighting): Promise<string> {
    const d = this.uow.dialect;
    // An operator's edit (edited_at) wins over what boxes report later; each record still keeps what was sent.
    const newer = 'identities.edited_at IS NULL AND excluded.last_seen_at >= identities.last_seen_at';
    const rows: { id: string; merged_into_id: string | null }[] = await manager.query(
      `INSERT INTO identities (id, external_id, name, user_type, first_seen_at, last_seen_at, updated_at)
       VALUES (${d.params(1, 7)})
       ON CONFLICT (external_id) DO UPDATE SET
         name = CASE WHEN ${newer} AND excluded.name IS NOT NULL THEN excluded.name ELSE identities.name END,
         user_type = CASE WHEN ${newer} AND excluded.user_type IS NOT NULL THEN excluded.user_type ELSE identities.user_type END,
         first_seen_at = ${d.least('identities.first_seen_at', 'excluded.first_seen_at')},
         last_seen_at = ${d.greatest('identities.last_seen_at', 'excluded.last_seen_at')},
         updated_at = excluded.updated_at
       RETURNING id, merged_into_id`,
      [randomUUID(), s.externalId, s.name, s.userType, s.seenAt, s.seenAt, s.now],
    );
    const mergedInto = rows[0].merged_into_id;
    if (!mergedInto) return rows[0].id;
    // An operator merged this identity_id into another identity: its sightings belong to that one now.
    await manager.query(
      `UPDATE identities SET first_seen_at = ${d.least('first_seen_at', d.p(1))}, last_seen_at = ${d.greatest('last_seen_at', d.p(2))}
       WHERE id = ${d.p(3)}`,
      [s.seenAt, s.seenAt, mergedInto],
    );
    return mergedInto;
  }

  /** Whether the identity exists and was not merged away (in the caller's transaction, e.g. before linking it). */
  async isLive(manager: EntityManager, id: string): Promise<{ exists: boolean; mergedIntoId: string | null }> {
    const rows: { merged_into_id: string | null }[] = await manager.query(
      `SELECT merged_into_id FROM identities WHERE id = ${this.uow.dialect.p(1)}`,
      [id],
    );
    return { exists: rows.length > 0, mergedIntoId: rows[0]?.merged_into_id ?? null };
  }

  /** Live identities among these ids, most recently seen first, each with its current face's image link. */
  async summaries(ids: string[]): Promise<IdentitySummary[]> {
    if (ids.length === 0) return [];
    const d = this.uow.dialect;
    const rows: Record<string, unknown>[] = await this.uow.dataSource.query(
      `SELECT i.id, i.external_id, i.name, i.user_type, i.first_seen_at, i.last_seen_at,
              f.id AS face_id, f.image_sha256, f.captured_at
       FROM identities i LEFT JOIN faces f ON f.identity_id = i.id AND f.is_current = ${d.bool(true)}
       WHERE i.id IN (${d.params(1, ids.length)}) AND i.merged_into_id IS NULL
       ORDER BY i.last_seen_at DESC, i.id DESC`,
      ids,
    );
    return rows.map((r) => ({
      id: r.id as string,
      externalId: r.external_id as string,
      name: (r.name as string | null) ?? null,
      userType: (r.user_type as string | null) ?? null,
      firstSeenAt: Number(r.first_seen_at),
      lastSeenAt: Number(r.last_seen_at),
      currentFace: r.face_id
        ? {
            id: r.face_id as string,
            // The image endpoint (biometric-reader), as GET /identities/{id} links it; never the bytes.
            imageUrl: r.image_sha256 ? `/identities/${r.id as string}/faces/${r.face_id as string}/image` : null,
            capturedAt: Number(r.captured_at),
          }
        : null,
    }));
  }
}
