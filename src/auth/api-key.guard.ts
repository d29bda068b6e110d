import { CanActivate, ExecutionContext, ForbiddenException, HttpException, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import { AddressFailureLimiter } from '../common/address-failure-limiter';
import { clientAddress } from '../common/client-address';
import { AppConfig } from '../config/app-config.service';
import { ApiKeysService } from './api-keys.service';
import { OWN_AUTHENTICATION, PUBLIC_ROUTE } from './auth.decorators';
import { ApiPrincipal, ApiRole, AuthenticatedRequest, REQUIRED_ROLE, roleSatisfies } from './roles';

export type { AuthenticatedRequest } from './roles';

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Wrong API keys per client address (API_AUTH_FAILURES_PER_MINUTE); one instance shared by every guard. */
@Injectable()
export class ApiAuthFailures extends AddressFailureLimiter {
  constructor(config: AppConfig) {
    super(config.get('API_AUTH_FAILURES_PER_MINUTE'));
  }
}

/**
 * Global (AuthModule): every route needs an API key unless it is @Public() or authenticates with its own guard
 * (@AuthenticatedBy). 401 without a valid key (X-API-Key or Authorization: Bearer), 403 when its role is too low.
 * An address that presented too many wrong keys gets 429 for the rest of the minute, without its key being checked:
 * answering a valid key would tell a guesser that it had hit.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly bootstrapAdminHash: Buffer | null;

  constructor(
    private readonly keys: ApiKeysService,
    private readonly reflector: Reflector,
    private readonly failures: ApiAuthFailures,
    config: AppConfig,
  ) {
    const adminKey = config.get('ADMIN_API_KEY');
    this.bootstrapAdminHash = adminKey ? sha256(adminKey) : null;
  }

  canActivate(context: ExecutionContext): Promise<boolean> | boolean {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean | undefined>(PUBLIC_ROUTE, targets)) return true;
    if (this.reflector.getAllAndOverride<unknown>(OWN_AUTHENTICATION, targets)) return true;
    return this.authenticate(context);
  }

  /** The API key check itself, for guards that accept other credentials too. */
  protected async authenticate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const required =
      this.reflector.getAllAndOverride<ApiRole | undefined>(REQUIRED_ROLE, [context.getHandler(), context.getClass()]) ?? 'reader';
    const presented = presentedKey(req);
    if (!presented) throw new UnauthorizedException({ message: 'an API key is required (X-API-Key header)', field: 'X-API-Key' });
    const principal = await this.checkCredential(
      context,
      'X-API-Key',
      'API keys',
      'invalid or revoked API key',
      async () => this.bootstrapAdmin(presented) ?? (await this.keys.verify(presented)),
    );
    if (!roleSatisfies(principal.role, required)) {
      throw new ForbiddenException({ message: `this endpoint requires the ${required} role`, field: 'X-API-Key' });
    }
    req.principal = principal;
    return true;
  }

  /**
   * Runs one credential check under the per-address failure limit (API_AUTH_FAILURES_PER_MINUTE): 429 while the
   * address is blocked, without checking; a failed check counts against the address and answers 401.
   */
  protected async checkCredential<T>(
    context: ExecutionContext,
    field: string,
    credentials: string,
    refusal: string,
    check: () => Promise<T | null>,
  ): Promise<T> {
    const address = clientAddress(context.switchToHttp().getRequest<Request>());
    const wait = this.failures.retryAfterSeconds(address);
    if (wait > 0) {
      context.switchToHttp().getResponse<Response>().setHeader('Retry-After', String(wait));
      throw new HttpException({ message: `too many wrong ${credentials} from this address; retry later`, field }, 429);
    }
    const found = await check();
    if (found === null) {
      this.failures.recordFailure(address);
      throw new UnauthorizedException({ message: refusal, field });
    }
    return found;
  }

  /** ADMIN_API_KEY lets an operator create the first keys over HTTP; compared in constant time. */
  private bootstrapAdmin(presented: string): ApiPrincipal | null {
    if (!this.bootstrapAdminHash || !timingSafeEqual(sha256(presented), this.bootstrapAdminHash)) return null;
    return { keyId: 'ADMIN_API_KEY', name: 'ADMIN_API_KEY', role: 'admin', actor: 'env:ADMIN_API_KEY' };
  }
}

export function presentedKey(req: Request): string | null {
  const header = req.headers['x-api-key'];
  if (typeof header === 'string' && header.trim()) return header.trim();
  const auth = req.headers.authorization;
  const m = typeof auth === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(auth) : null;
  return m ? m[1] : null;
}
