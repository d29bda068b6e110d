import { API_KEY_SECURITY, BEARER_SECURITY } from './auth.decorators';

/**
 * How the global guards (AuthModule) show in the OpenAPI document: every operation not marked @Public() and not
 * declaring its own security takes either key scheme and may be refused with these (src/openapi.ts).
 */
export const API_KEY_REQUIREMENT: Record<string, string[]>[] = [{ [API_KEY_SECURITY]: [] }, { [BEARER_SECURITY]: [] }];

export const API_KEY_REFUSALS: Record<'401' | '403' | '429', string> = {
  '401': 'Missing, unknown or revoked API key.',
  '403': "The key's role is not allowed here.",
  '429': 'Rate limit (API_RATE_LIMIT_PER_MINUTE) exceeded; see Retry-After.',
};
