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

@Injectable()
export class IdentitiesService {
  constructor(private readonly uow: UnitOfWork) {}

  /**
   * Insert-or-update the identity in the caller's transaction; returns its id. Raw SQL: it runs for every push (ingest
   * hot path), as one upsert whose CASE/LEAST/GREATEST merge rules the query builder cannot express.
   */
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
    // An operator merged this identity_id into another identity: its sightings belong to that one now (raw SQL for
    // the portable LEAST/GREATEST, same hot path).
    await manager.query(
      `UPDATE identities SET first_seen_at = ${d.least('first_seen_at', d.p(1))}, last_seen_at = ${d.greatest('last_seen_at', d.p(2))}
       WHERE id = ${d.p(3)}`,
      [s.seenAt, s.seenAt, mergedInto],
    );
    return mergedInto;
  }
}
