import { DomainError } from '../common/domain-error';

export const faceIndexLoading = () =>
  new DomainError('unavailable', 'face_index_loading', 'the face index is still loading; retry shortly (see /health/ready)');
export const faceSearchDisabled = () =>
  new DomainError('unavailable', 'face_search_disabled', 'face search is switched off (FACE_SEARCH_ENABLED)');
export const invalidProbe = (field: string, message: string) => new DomainError('invalid', 'invalid_probe', message, field);
