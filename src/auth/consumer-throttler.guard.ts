import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import type { Request } from 'express';
import { presentedKey } from './api-key.guard';
import { hashApiKey } from './api-keys.service';
import { PUBLIC_ROUTE } from './auth.decorators';

/**
 * Rate limit for REST consumers, counted per API key (so one busy integration cannot starve the others),
 * or per source address for requests without a key. Global (AuthModule), before the key guard. Guessing keys is
 * limited per address by ApiKeyGuard (each guess presents a different key, so it is never counted twice here).
 * @Public() routes are not limited here: boxes have their own caps (src/box-callbacks/ingest-gate.ts), and refusing
 * a box only makes it retry; probes and scrapers must not be refused for being frequent.
 */
@Injectable()
export class ConsumerThrottlerGuard extends ThrottlerGuard {
  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    return this.reflector.getAllAndOverride<boolean | undefined>(PUBLIC_ROUTE, [context.getHandler(), context.getClass()]) === true;
  }

  protected override async getTracker(req: Record<string, any>): Promise<string> {
    const key = presentedKey(req as Request);
    return key ? `key:${hashApiKey(key).slice(0, 32)}` : `ip:${(req as Request).ip}`;
  }
}
