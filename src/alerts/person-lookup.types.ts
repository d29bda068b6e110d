import type { EntityManager } from 'typeorm';

/**
 * How alert rules find the person an identity belongs to (for `personIds`, `excludePersonIds`, the alert's
 * `personId` and the cooldown key). A box identity is one face-library entry on one box; a person may own several.
 * The persons module answers it (PERSON_LINKS, src/recognition-records/person-links.types.ts; wired in AlertsModule); without
 * that module every identity is its own person (person id = identity id).
 * The manager is the alert's transaction, so the answer is read consistently with the alert it goes into.
 */
export interface PersonLookup {
  /** The person of each identity id given; an identity without person may be absent from the map. Ids up to 64 characters. */
  personsOf(identityIds: string[], manager?: EntityManager): Promise<Map<string, string>>;
}

export const PERSON_LOOKUP = Symbol('PERSON_LOOKUP');

/** The default: each identity is a person of its own, with the identity's id. */
export class IdentityIsPersonLookup implements PersonLookup {
  personsOf(identityIds: string[]): Promise<Map<string, string>> {
    return Promise.resolve(new Map(identityIds.map((id) => [id, id])));
  }
}
