import { DomainError } from '../common/domain-error';

export const personNotFound = (field = 'id') => new DomainError('not_found', 'person_not_found', 'person not found', field);
export const personIdentityNotFound = () => new DomainError('not_found', 'identity_not_found', 'identity not found', 'identityId');
export const personIdentityMerged = (targetId: string) =>
  new DomainError('not_found', 'identity_merged', `the identity was merged into ${targetId}`, 'identityId');
export const identityNotInPerson = () =>
  new DomainError('not_found', 'identity_not_in_person', 'the identity does not belong to this person', 'identityId');
export const onlyIdentityOfPerson = () =>
  new DomainError('invalid', 'only_identity', 'the identity is the only one of this person: it is its own person already', 'identityId');
export const suggestionNotFound = () => new DomainError('not_found', 'suggestion_not_found', 'suggestion not found for this person', 'sid');
export const suggestionAccepted = () =>
  new DomainError('invalid', 'suggestion_accepted', 'the suggestion was accepted (the identity was linked): unlink it instead', 'sid');
