import { Injectable } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { LessThan } from 'typeorm';
import { ApiKeysService } from '../../auth/api-keys.service';
import type { ApiPrincipal } from '../../auth/roles';
import { AppConfig } from '../../config/app-config.service';
import { UnitOfWork } from '../../database/unit-of-work';
import type { FeedFilter } from '../event-feed.service';
import { EventStreamToken } from './entities/event-stream-token.entity';

export const STREAM_TOKEN_PREFIX = 'rhst_';
const BOOTSTRAP_ADMIN_KEY_ID = 'ADMIN_API_KEY';

export interface IssuedStreamToken {
  token: string;
  expiresAt: number;
}

export interface RedeemedStreamToken {
  principal: ApiPrincipal;
  filter: FeedFilter;
}

const hashToken = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

/**
 * Short-lived stream tokens: a browser's EventSource cannot send an API key header, and a long-lived key in a URL
 * ends up in proxy logs and browser history. A token opens streams (reconnects included) until it expires, with
 * the role and filters of the key that asked for it, and stops working when that key is revoked.
 */
@Injectable()
export class StreamTokensService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly keys: ApiKeysService,
    private readonly config: AppConfig,
  ) {}

  async issue(principal: ApiPrincipal, filter: FeedFilter, ttlSeconds: number): Promise<IssuedStreamToken> {
    const token = STREAM_TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const now = Date.now();
    const expiresAt = now + ttlSeconds * 1000;
    await this.uow.run(async (m) => {
      const repo = m.getRepository(EventStreamToken);
      // Expired tokens are useless: each issue clears them, so the table stays as small as the live set.
      await repo.delete({ expiresAt: LessThan(now) });
      await repo.insert({
        tokenHash: hashToken(token),
        keyId: principal.keyId,
        role: principal.role,
        actor: principal.actor,
        filter,
        createdAt: now,
        expiresAt,
      });
    });
    return { token, expiresAt };
  }

  /** The principal and filters of a valid token, or null (unknown, expired, or its key revoked). */
  async redeem(token: string): Promise<RedeemedStreamToken | null> {
    if (!token.startsWith(STREAM_TOKEN_PREFIX) || token.length > 128) return null;
    const row = await this.uow.dataSource.getRepository(EventStreamToken).findOneBy({ tokenHash: hashToken(token) });
    if (!row || row.expiresAt <= Date.now()) return null;
    const keyActive =
      row.keyId === BOOTSTRAP_ADMIN_KEY_ID ? Boolean(this.config.get('ADMIN_API_KEY')) : await this.keys.isActive(row.keyId);
    if (!keyActive) return null;
    return { principal: { keyId: row.keyId, name: `stream token of ${row.actor}`, role: row.role, actor: row.actor }, filter: row.filter };
  }
}
