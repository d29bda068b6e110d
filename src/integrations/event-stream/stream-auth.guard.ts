import { BadRequestException, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiAuthFailures, ApiKeyGuard, presentedKey } from '../../auth/auth.module';
import type { AuthenticatedRequest } from '../../auth/roles';
import { ApiKeysService } from '../../auth/api-keys.service';
import { AppConfig } from '../../config/app-config.service';
import type { FeedFilter } from '../event-feed.service';
import { StreamTokensService } from './stream-tokens.service';

export type StreamRequest = AuthenticatedRequest & { streamTokenFilter?: FeedFilter };

/**
 * The event stream takes an API key like every REST route, or `?token=` from POST /events/stream-tokens for
 * clients that cannot send headers (a browser's EventSource). The token brings its own role and filters.
 */
@Injectable()
export class StreamAuthGuard extends ApiKeyGuard {
  constructor(
    keys: ApiKeysService,
    reflector: Reflector,
    authFailures: ApiAuthFailures,
    config: AppConfig,
    private readonly tokens: StreamTokensService,
  ) {
    super(keys, reflector, authFailures, config);
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<StreamRequest>();
    const token = req.query.token;
    if (token === undefined) return this.authenticate(context);
    if (typeof token !== 'string') throw new BadRequestException({ message: 'token must be given once', field: 'token' });
    if (presentedKey(req)) throw new BadRequestException({ message: 'send either an API key or a stream token, not both', field: 'token' });
    // Wrong tokens count with wrong keys against the address (API_AUTH_FAILURES_PER_MINUTE).
    const redeemed = await this.checkCredential(
      context,
      'token',
      'credentials',
      'unknown or expired stream token: ask POST /events/stream-tokens for a new one',
      () => this.tokens.redeem(token),
    );
    req.principal = redeemed.principal;
    req.streamTokenFilter = redeemed.filter;
    return true;
  }
}
