import { DomainError } from '../common/domain-error';

export const identityNotFound = (field = 'id') => new DomainError('not_found', 'identity_not_found', 'identity not found', field);
/** A merged identity stays only as an alias of its target: the API answers 404 but says where it went. */
export const identityMerged = (targetId: string, field = 'id') =>
  new DomainError('not_found', 'identity_merged', `the identity was merged into ${targetId}`, field);
export const mergeIntoSelf = () => new DomainError('invalid', 'merge_into_self', 'an identity cannot be merged into itself', 'targetId');
export const faceNotFound = () => new DomainError('not_found', 'face_not_found', 'face not found for this identity', 'faceId');
export const faceImageMissing = () => new DomainError('not_found', 'image_missing', 'the face has no image', 'faceId');
export const faceFeatureMissing = () => new DomainError('not_found', 'feature_missing', 'the face has no feature vector', 'faceId');
