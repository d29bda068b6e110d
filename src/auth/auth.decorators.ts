import { applyDecorators, CanActivate, createParamDecorator, ExecutionContext, SetMetadata, Type, UseGuards } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';
import type { AuthenticatedRequest } from './roles';
import { ApiPrincipal, ApiRole, REQUIRED_ROLE } from './roles';

export const API_KEY_SECURITY = 'api-key';
/** The same key as Authorization: Bearer <key>; either scheme satisfies an endpoint. */
export const BEARER_SECURITY = 'bearer';
/** `?token=` from POST /events/stream-tokens, accepted by GET /events/stream only. */
export const STREAM_TOKEN_SECURITY = 'stream-token';

/** Metadata of @Public(); also marks the OpenAPI operation (src/openapi.ts removes the mark). */
export const PUBLIC_ROUTE = 'rh:public';
export const PUBLIC_OPERATION_EXTENSION = 'x-rh-public';
/** Metadata of @AuthenticatedBy(): the route's own guard, to which the global API key guard defers. */
export const OWN_AUTHENTICATION = 'rh:own-authentication';

/**
 * Every route needs an API key (global guards in AuthModule: the per-key rate limit, then the key with at least the
 * `reader` role); this opens a controller or an endpoint to callers without one. For boxes, health probes and
 * metrics scrapers only: each has its own admission.
 */
export function Public(): ClassDecorator & MethodDecorator {
  return applyDecorators(SetMetadata(PUBLIC_ROUTE, true), ApiExtension(PUBLIC_OPERATION_EXTENSION, true));
}

/**
 * The route authenticates with its own guard instead of the global API key guard (the rate limit still applies).
 * That guard must refuse what the API key guard refuses (the route walk in test/secure-by-default.e2e-spec.ts
 * checks that it answers 401 without credentials); the route declares its own OpenAPI security.
 */
export function AuthenticatedBy(guard: Type<CanActivate>): MethodDecorator {
  return applyDecorators(SetMetadata(OWN_AUTHENTICATION, guard), UseGuards(guard));
}

/** Minimum role for one endpoint (roles are ordered reader < biometric-reader < admin). */
export function RequireRole(role: ApiRole): MethodDecorator {
  return applyDecorators(SetMetadata(REQUIRED_ROLE, role));
}

/** The authenticated caller. */
export const Principal = createParamDecorator((_: unknown, ctx: ExecutionContext): ApiPrincipal => {
  const principal = ctx.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (!principal) throw new Error('Principal used on a @Public() endpoint');
  return principal;
});
