import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintMs } from '../../database/transformers';

/** Index of the content-addressed image store: bytes live in files named by their sha256. */
@Entity('stored_images')
export class StoredImage {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  sha256: string;

  @Column({ name: 'content_type', type: 'varchar', length: 64 })
  contentType: string;

  @Column({ name: 'byte_size', type: 'integer' })
  byteSize: number;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintMs })
  createdAt: number;
}
