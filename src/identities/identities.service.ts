import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { UnitOfWork } from '../database/unit-of-work';
import { Identity } from './entities/identity.entity';

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

  /**
   * Insert-or-update the identity in the caller's transaction; returns its id. Raw SQL: it runs for every push (ingest
   * hot path), as one upsert whose CASE/LEAST/GREATEST merge rules the query builder cannot express.
   */
  async recordSighting(manager: EntityManager, s: IdentitySighting): Promise<string> {
    return (await this.recordSightings(manager, [s])).get(s.externalId)!;
  }

  /**
   * Insert-or-update the identities of a batch of sightings in the caller's transaction, one statement (plus one
   * per merged identity seen); returns the identity id for each external id (the merge target for a merged one).
   * Sightings of one identity are folded first: first/last seen are the batch's extremes, and name and user type
   * those of its newest sighting that reported one (ties: the later in the batch).
   */
  async recordSightings(manager: EntityManager, sightings: IdentitySighting[]): Promise<Map<string, string>> {
    const d = this.uow.dialect;
    const byKey = new Map<string, { s: IdentitySighting; first: number; nameAt: number; typeAt: number }>();
    for (const s of sightings) {
      const prev = byKey.get(s.externalId);
      if (!prev) {
        byKey.set(s.externalId, { s: { ...s }, first: s.seenAt, nameAt: s.seenAt, typeAt: s.seenAt });
        continue;
      }
      const f = prev.s;
      if (s.name !== null && (f.name === null || s.seenAt >= prev.nameAt)) [f.name, prev.nameAt] = [s.name, s.seenAt];
      if (s.userType !== null && (f.userType === null || s.seenAt >= prev.typeAt)) [f.userType, prev.typeAt] = [s.userType, s.seenAt];
      prev.first = Math.min(prev.first, s.seenAt);
      f.seenAt = Math.max(f.seenAt, s.seenAt);
      f.now = Math.max(f.now, s.now);
    }
    const rows = [...byKey.values()]
      .sort((a, b) => (a.s.externalId < b.s.externalId ? -1 : a.s.externalId > b.s.externalId ? 1 : 0))
      .map(({ s, first }) => [randomUUID(), s.externalId, s.name, s.userType, first, s.seenAt, s.now]);
    // An operator's edit (edited_at) wins over what boxes report later; each record still keeps what was sent.
    const newer = 'identities.edited_at IS NULL AND excluded.last_seen_at >= identities.last_seen_at';
    const ids = new Map<string, string>();
    for (const chunk of d.valuesChunks(rows, 7)) {
      const returned: { id: string; external_id: string; merged_into_id: string | null }[] = await manager.query(
        `INSERT INTO identities (id, external_id, name, user_type, first_seen_at, last_seen_at, updated_at)
         VALUES ${chunk.sql}
         ON CONFLICT (external_id) DO UPDATE SET
           name = CASE WHEN ${newer} AND excluded.name IS NOT NULL THEN excluded.name ELSE identities.name END,
           user_type = CASE WHEN ${newer} AND excluded.user_type IS NOT NULL THEN excluded.user_type ELSE identities.user_type END,
           first_seen_at = ${d.least('identities.first_seen_at', 'excluded.first_seen_at')},
           last_seen_at = ${d.greatest('identities.last_seen_at', 'excluded.last_seen_at')},
           updated_at = excluded.updated_at
         RETURNING id, external_id, merged_into_id`,
        chunk.params,
      );
      for (const r of returned) {
        ids.set(r.external_id, r.merged_into_id ?? r.id);
        if (!r.merged_into_id) continue;
        // An operator merged this identity_id into another identity: its sightings belong to that one now.
        const { first, s } = byKey.get(r.external_id)!;
        await manager.query(
          `UPDATE identities SET first_seen_at = ${d.least('first_seen_at', d.p(1))}, last_seen_at = ${d.greatest('last_seen_at', d.p(2))}
           WHERE id = ${d.p(3)}`,
          [first, s.seenAt, r.merged_into_id],
        );
      }
    }
    return ids;
  }

  /** The box's identity_id of an identity (merged ones too); null when there is no such identity. */
  async externalIdOf(id: string): Promise<string | null> {
    const found = await this.uow.dataSource.getRepository(Identity).findOne({ select: { id: true, externalId: true }, where: { id } });
    return found?.externalId ?? null;
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
