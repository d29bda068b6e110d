import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintMs } from '../../../database/transformers';
import type { ApiRole } from '../../../auth/roles';
import type { FeedFilter } from '../../event-feed.service';

/**
 * A short-lived credential for one consumer's event stream, for clients that cannot send headers (a browser's
 * EventSource). Only the token's sha256 is stored; it carries the issuing key's role and the stream's filters.
 */
@Entity('event_stream_tokens')
export class EventStreamToken {
  @PrimaryColumn({ name: 'token_hash', type: 'varchar', length: 64 })
  tokenHash: string;

  /** The API key that asked for it (or ADMIN_API_KEY): revoking the key ends its tokens too. */
  @Column({ name: 'key_id', type: 'varchar', length: 64 })
  keyId: string;

  @Column({ type: 'varchar', length: 32 })
  role: ApiRole;

  @Column({ type: 'varchar', length: 200 })
  actor: string;

  @Column({ type: 'simple-json' })
  filter: FeedFilter;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintMs })
  createdAt: number;

  @Index('ix_event_stream_tokens_expires')
  @Column({ name: 'expires_at', type: 'bigint', transformer: bigintMs })
  expiresAt: number;
}
