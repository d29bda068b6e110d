import { DomainError } from '../common/domain-error';

/** A record or face names an image that retention or erasure has since released. */
export const imageNoLongerStored = () => new DomainError('not_found', 'image_released', 'the image is no longer stored', 'role');
