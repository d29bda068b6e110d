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
}
