import { DomainError } from '../common/domain-error';

export const alertRuleNotFound = () => new DomainError('not_found', 'alert_rule_not_found', 'no such alert rule', 'id');
export const alertNotFound = () => new DomainError('not_found', 'alert_not_found', 'no such alert', 'id');
/** A rule field that passes the DTO's checks but not the rule's (an unknown time zone, an empty time range, a bad window). */
export const invalidRule = (field: string, message: string) => new DomainError('invalid', 'invalid_input', `${field} ${message}`, field);
