import { ApiProperty } from '@nestjs/swagger';
import type { ErasureReport } from '../erasure.service';

export class ErasureReportDto {
  @ApiProperty({ description: 'Identity whose biometric data was erased.' })
  identityId: string;

  @ApiProperty({ description: 'Records stripped of images, feature vector and landmarks.' })
  recordsCleared: number;

  @ApiProperty({ description: 'Faces removed from the face library.' })
  facesDeleted: number;

  @ApiProperty({ description: 'Image files deleted (images still used by other identities are kept).' })
  imagesDeleted: number;

  @ApiProperty({
    description: "Outbox events of the identity's records whose image hashes were removed (the event stream replays them without).",
  })
  eventsScrubbed: number;

  @ApiProperty({ description: 'Webhook deliveries whose stored body lost its image links and hashes.' })
  deliveriesScrubbed: number;

  @ApiProperty({
    description:
      'Whether the old row versions were purged from the database files afterwards (SQLite: WAL checkpointed and truncated; PostgreSQL: VACUUM of the touched tables). False: the erasure stands, but copies stay in free space until reused; see the server log.',
  })
  storagePurged: boolean;

  static from(r: ErasureReport): ErasureReportDto {
    return Object.assign(new ErasureReportDto(), r);
  }
}
