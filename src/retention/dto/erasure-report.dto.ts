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

  static from(r: ErasureReport): ErasureReportDto {
    return Object.assign(new ErasureReportDto(), r);
  }
}
