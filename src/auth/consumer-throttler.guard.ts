import { Injectable } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import type { Request } from 'express';
import { presentedKey } from './api-key.guard';
import { hashApiKey } from './api-keys.service';

/**
 * Rate limit for REST consumers, counted per API key (so one busy integration cannot starve the others),
 * or per source address for requests without a key. Guessing keys is limited per address by ApiKeyGuard (each guess
 * presents a different key, so it is never counted twice here). Boxes are not limited here: their endpoint has its
 * own caps (src/box-callbacks/ingest-gate.ts), and refusing a box only makes it retry.
 */
@Injectable()
export class ConsumerThrottlerGuard extends ThrottlerGuard {
  protected override async getTracker(req: Record<string, any>): Promise<string> {
    const key = presentedKey(req as Request);
    return key ? `key:${hashApiKey(key).slice(0, 32)}` : `ip:${(req as Request).ip}`;
  }
}
