import { applyDecorators, createParamDecorator, ExecutionContext, SetMetadata, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiSecurity, ApiTooManyRequestsResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ApiKeyGuard, AuthenticatedRequest } from './api-key.guard';
import { ConsumerThrottlerGuard } from './consumer-throttler.guard';
import { ApiPrincipal, ApiRole, REQUIRED_ROLE } from './roles';
import { ErrorResponseDto } from '../common/error-response.dto';

export const API_KEY_SECURITY = 'api-key';
/** The same key as Authorization: Bearer <key>; either scheme satisfies an endpoint. */
export const BEARER_SECURITY = 'bearer';
/** `?token=` from POST /events/stream-tokens, accepted by GET /events/stream only. */
export const STREAM_TOKEN_SECURITY = 'stream-token';

/**
 * Protects a controller with API keys (and the per-key rate limit); endpoints need `reader` unless they say
 * otherwise with RequireRole.
 */
export function ApiKeyProtected(): ClassDecorator & MethodDecorator {
  return applyDecorators(
    UseGuards(ConsumerThrottlerGuard, ApiKeyGuard),
    ApiTooManyRequestsResponse({ description: 'Rate limit (API_RATE_LIMIT_PER_MINUTE) exceeded; see Retry-After.', type: ErrorResponseDto }),
    ApiSecurity(API_KEY_SECURITY),
    ApiBearerAuth(BEARER_SECURITY),
    ApiUnauthorizedResponse({ description: 'Missing, unknown or revoked API key.', type: ErrorResponseDto }),
    ApiForbiddenResponse({ description: 'The key\'s role is not allowed here.', type: ErrorResponseDto }),
  );
}

/** Minimum role for one endpoint (roles are ordered reader < biometric-reader < admin). */
export function RequireRole(role: ApiRole): MethodDecorator {
  return applyDecorators(SetMetadata(REQUIRED_ROLE, role));
}

/** The authenticated caller. */
export const Principal = createParamDecorator((_: unknown, ctx: ExecutionContext): ApiPrincipal => {
  const principal = ctx.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (!principal) throw new Error('Principal used on an endpoint without ApiKeyProtected');
  return principal;
});
