/**
 * How face search learns which person an identity belongs to. The persons module (issue 15, section 3) provides
 * one under PERSON_RESOLVER; until then every identity is its own person (personId = identityId), which is also
 * what a resolver must answer for an identity it does not know.
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
