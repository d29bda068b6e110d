import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, IsUUID, Length, MaxLength, ValidateIf } from 'class-validator';
import { PageQueryDto } from '../../common/page-query.dto';
import { RecordSummaryDto } from '../../recognition-records/dto/record.dto';

export class IdentityListQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Search: exact identity_id as the box sent it, or part of the name (case-insensitive).' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  q?: string;

  @ApiPropertyOptional({ description: 'Exact identity_id as the box sent it.' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  externalId?: string;

  @ApiPropertyOptional({ description: 'Exact user_type: employee, visitor, blacklist, stranger, vip, …', maxLength: 32 })
  @IsOptional()
  @IsString()
  @MaxLength(32)
  userType?: string;
}

export class IdentityDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ description: 'identity_id as the boxes send it.' }) externalId: string;
  @ApiProperty({ nullable: true, type: String }) name: string | null;
  @ApiProperty({ nullable: true, type: String, example: 'employee' }) userType: string | null;
  @ApiProperty({ description: 'Box event time of the oldest record, epoch ms.' }) firstSeenAt: number;
  @ApiProperty({ description: 'Box event time of the newest record, epoch ms.' }) lastSeenAt: number;
  @ApiProperty({ description: 'Epoch ms.' }) updatedAt: number;
  @ApiProperty({
    nullable: true,
    type: Number,
    description: 'When an operator last set name or user_type (epoch ms); pushes no longer overwrite them.',
  })
  editedAt: number | null;
}

export class IdentityPageDto {
  @ApiProperty({ type: [IdentityDto] }) items: IdentityDto[];
  @ApiProperty({ nullable: true, type: String, description: 'Pass as cursor for the next page; null at the end.' }) nextCursor:
    string | null;
}

/** A face in the library: references only, never the image bytes or the feature. */
export class FaceDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'face-library-updated', description: 'stranger-registered | face-library-updated' }) source: string;
  @ApiProperty({ format: 'uuid', description: 'The recognition record the face came from.' }) sourceRecordId: string;
  @ApiProperty({ nullable: true, type: String }) imageSha256: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Image endpoint (biometric-reader).' }) imageUrl: string | null;
  @ApiProperty() hasFeature: boolean;
  @ApiProperty() isCurrent: boolean;
  @ApiProperty({ description: 'Box event time of the source record, epoch ms.' }) capturedAt: number;
  @ApiProperty({ description: 'Epoch ms.' }) createdAt: number;
}

export class IdentityDetailDto extends IdentityDto {
  @ApiProperty({
    nullable: true,
    type: String,
    format: 'uuid',
    description: 'The person (see /persons) this identity belongs to; null until the hub has processed its first record.',
  })
  personId: string | null;

  @ApiProperty({ type: FaceDto, nullable: true, description: 'The current registered face.' })
  currentFace: FaceDto | null;

  @ApiProperty({ type: [FaceDto], description: 'Earlier registered faces, newest first.' })
  faceHistory: FaceDto[];

  @ApiProperty({ description: 'Records naming this identity.' })
  recordCount: number;

  @ApiProperty({ type: [RecordSummaryDto], description: 'The 10 newest records (more via /records?identityId=).' })
  latestRecords: RecordSummaryDto[];
}

export class UpdateIdentityDto {
  @ApiPropertyOptional({ nullable: true, type: String, maxLength: 200 })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsString()
  @Length(1, 200)
  name?: string | null;

  @ApiPropertyOptional({ example: 'blacklist', description: 'employee, visitor, blacklist, stranger, vip, …' })
  @IsOptional()
  @IsString()
  @Length(1, 32)
  userType?: string;
}

export class MergeIdentityDto {
  @ApiProperty({ format: 'uuid', description: 'The identity that receives the records and faces and remains.' })
  @IsUUID('all')
  targetId: string;
}

export class FaceFeatureDto {
  @ApiProperty({ format: 'uuid' }) faceId: string;
  @ApiProperty({ example: 512 }) dimensions: number;
  @ApiProperty({ type: [Number] }) values: number[];
}
