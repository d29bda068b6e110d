import { Injectable } from '@nestjs/common';
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { IsNull } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { DomainError } from '../common/domain-error';
import { UnitOfWork } from '../database/unit-of-work';
import { ApiKey } from './entities/api-key.entity';
import { ApiPrincipal, ApiRole } from './roles';

export const API_KEY_PREFIX = 'rhk_';
/** How often last_used_at is refreshed per key; a write per request would serialise SQLite readers. */
const LAST_USED_RESOLUTION_MS = 60_000;

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export interface CreatedApiKey {
  key: string;
  record: ApiKey;
}

/** Issues, verifies and revokes API keys. Keys are 256-bit random; only their sha256 is stored. */
@Injectable()
export class ApiKeysService {
  private readonly lastTouched = new Map<string, number>();

  constructor(
    private readonly uow: UnitOfWork,
    private readonly audit: AuditService,
  ) {}

  private get dataSource() {
    return this.uow.dataSource;
  }

  /** Issues a key; the audit row (by `createdBy`) commits with it. */
  async create(name: string, role: ApiRole, createdBy: string): Promise<CreatedApiKey> {
    const key = API_KEY_PREFIX + randomBytes(32).toString('base64url');
    const record = this.dataSource.getRepository(ApiKey).create({
      id: randomUUID(),
      name,
      role,
      keyHash: hashApiKey(key),
      keyPrefix: key.slice(0, 12),
      createdBy,
      createdAt: Date.now(),
      lastUsedAt: null,
      revokedAt: null,
    });
    await this.uow.run(async (m) => {
      await m.getRepository(ApiKey).insert(record);
      await this.audit.recordIn(m, {
        actor: createdBy,
        action: 'api-key.created',
        subjectType: 'api-key',
        subjectId: record.id,
        details: { role },
      });
    });
    return { key, record };
  }

  list(): Promise<ApiKey[]> {
    return this.dataSource.getRepository(ApiKey).find({ order: { createdAt: 'DESC', id: 'DESC' } });
  }

  /** Revokes a key; the audit row (by `actor`) commits with it. Revoking a revoked key changes nothing. */
  async revoke(id: string, actor: string): Promise<ApiKey> {
    const repo = this.dataSource.getRepository(ApiKey);
    const key = await repo.findOneBy({ id });
    if (!key) throw new DomainError('not_found', 'api_key_not_found', 'API key not found', 'id');
    if (key.revokedAt === null) {
      key.revokedAt = Date.now();
      await this.uow.run(async (m) => {
        await m.getRepository(ApiKey).update({ id, revokedAt: IsNull() }, { revokedAt: key.revokedAt });
        await this.audit.recordIn(m, { actor, action: 'api-key.revoked', subjectType: 'api-key', subjectId: id });
      });
    }
    return key;
  }

  /** Whether a key (by id) exists and is not revoked: credentials derived from a key end with it. */
  async isActive(id: string): Promise<boolean> {
    const key = await this.dataSource.getRepository(ApiKey).findOneBy({ id });
    return key !== null && key.revokedAt === null;
  }

  /** The principal for a presented key, or null when it is unknown or revoked. */
  async verify(presented: string): Promise<ApiPrincipal | null> {
    if (!presented.startsWith(API_KEY_PREFIX) || presented.length > 128) return null;
    const hash = hashApiKey(presented);
    const key = await this.dataSource.getRepository(ApiKey).findOneBy({ keyHash: hash });
    // The lookup is by hash, so timing reveals nothing about the key; compare again in constant time anyway.
    if (!key || key.revokedAt !== null || !timingSafeEqual(Buffer.from(key.keyHash), Buffer.from(hash))) return null;
    await this.touch(key.id);
    return { keyId: key.id, name: key.name, role: key.role, actor: `api-key:${key.id}` };
  }

  private async touch(id: string): Promise<void> {
    const now = Date.now();
    if (now - (this.lastTouched.get(id) ?? 0) < LAST_USED_RESOLUTION_MS) return;
    this.lastTouched.set(id, now);
    await this.uow.run((m) => m.getRepository(ApiKey).update({ id }, { lastUsedAt: now }));
  }
}
