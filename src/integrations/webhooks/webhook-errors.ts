import { DomainError } from '../../common/domain-error';

export const subscriptionNotFound = () =>
  new DomainError('not_found', 'webhook_subscription_not_found', 'no such webhook subscription', 'id');
export const deliveryNotFound = () => new DomainError('not_found', 'webhook_delivery_not_found', 'no such webhook delivery', 'id');
/** The URL's host is, or only resolves to, addresses outside WEBHOOK_ALLOWED_NETWORKS. */
export const webhookTargetRefused = (message: string) => new DomainError('invalid', 'webhook_target_refused', `url: ${message}`, 'url');
