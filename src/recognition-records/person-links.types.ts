import type { EntityManager } from 'typeorm';

/**
 * Which person an identity belongs to, answered by the persons module (src/persons), which owns those tables.
 *
 * Why a token here: persons depends on identities and recognition-records (it reads their services), so those
 * modules cannot import persons back without a folder cycle. They depend on this interface instead, defined in
 * the lowest module that needs it; PersonsModule provides the implementation globally. Optional at injection:
 * without the persons module, identities have no personId and records cannot be filtered by person.
 */
export const PERSON_LINKS = Symbol('PERSON_LINKS');

export interface PersonLinks {
  /** The person of an identity, or null before the hub has processed the identity's first event. */
  personOf(identityId: string): Promise<string | null>;
  /**
   * The person of each identity given (alert rules match and debounce by person); an identity the hub has not
   * processed yet is absent. Read in the caller's transaction when a manager is given.
   */
  personsOf(identityIds: string[], manager?: EntityManager): Promise<Map<string, string>>;
  /** The identities of a person (empty for an unknown person). */
  identityIdsOf(personId: string): Promise<string[]>;
  /** Erasure: forget the identity's face vector used for linking, in the erasure's transaction. */
  forgetFeature(manager: EntityManager, identityId: string): Promise<void>;
}
