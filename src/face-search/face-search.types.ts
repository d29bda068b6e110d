import type { PersonLinks } from '../recognition-records/person-links.types';

/**
 * How face search learns which person an identity belongs to: from the persons module's PERSON_LINKS when it is
 * present (personsFrom), else every identity is its own person (personId = identityId), which is also what a
 * resolver answers for an identity the persons module has not processed yet (its own person has its id).
 */
export interface PersonResolver {
  /** Person of each identity (every given id is a key of the answer). */
  personIdsOf(identityIds: string[]): Promise<Map<string, string>>;
  /** The identities of a person; empty when there is no such person. */
  identityIdsOf(personId: string): Promise<string[]>;
}

export const PERSON_RESOLVER = Symbol('PERSON_RESOLVER');

/** Default: a person is an identity. */
export const identityAsPerson: PersonResolver = {
  personIdsOf: (ids) => Promise.resolve(new Map(ids.map((id) => [id, id]))),
  identityIdsOf: (personId) => Promise.resolve([personId]),
};

/** The resolver over the persons module's links. */
export function personsFrom(links: PersonLinks): PersonResolver {
  return {
    personIdsOf: async (ids) => {
      const found = await links.personsOf(ids);
      return new Map(ids.map((id) => [id, found.get(id) ?? id]));
    },
    identityIdsOf: async (personId) => {
      const ids = await links.identityIdsOf(personId);
      return ids.length > 0 ? ids : [personId];
    },
  };
}
