import { Column, Entity } from 'typeorm';
import { BigAutoIncrementPrimaryColumn } from '../../database/portable-columns';
import { bigintMs } from '../../database/transformers';

/**
 * Images a retention or erasure batch stopped referencing, written in that batch's transaction and removed once
 * they are released (deleted if nothing references them any more). A row left behind by a crash is finished by
 * the next erasure or retention run, so an image is never orphaned between a batch's commit and its release.
 */
@Entity('pending_image_releases')
export class PendingImageRelease {
  @BigAutoIncrementPrimaryColumn()
  id: string | number;

  /** JSON array of sha256 hex names. */
  @Column({ type: 'simple-json' })
  sha256s: string[];

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintMs })
  createdAt: number;
}
