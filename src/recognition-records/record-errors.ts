import { DomainError } from '../common/domain-error';

export const recordNotFound = () => new DomainError('not_found', 'record_not_found', 'recognition record not found', 'id');
export const recordImageMissing = (role: string) =>
  new DomainError('not_found', 'image_missing', `the record has no ${role} image`, 'role');
export const recordFeatureMissing = () => new DomainError('not_found', 'feature_missing', 'the record has no feature vector', 'id');
