import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsNumber, IsOptional, IsString, IsUUID, Max, MaxLength, Min } from 'class-validator';
import { ToEpochMs, ToNumber } from '../../common/query-transforms';
import { RecordSummaryDto } from '../../recognition-records/dto/record.dto';

const GROUP_BY = ['record', 'identity', 'person'] as const;

/** Options and filters shared by POST /faces/search (body) and GET /records/{id}/similar (query string). */
export class FaceSearchOptionsDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 20 })
  @IsOptional()
  @ToNumber()
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  @ApiPropertyOptional({ minimum: -1, maximum: 1, description: 'Lowest cosine similarity returned; default FACE_SEARCH_MIN_SIMILARITY.' })
  @IsOptional()
  @ToNumber()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(-1)
  @Max(1)
  minSimilarity?: number;

  @ApiPropertyOptional({ type: String, description: 'Occurred at or after: epoch milliseconds or an ISO 8601 date-time.' })
  @IsOptional()
  @ToEpochMs()
  @IsInt({ message: 'from must be epoch milliseconds or an ISO 8601 date' })
  @Min(0)
  from?: number;

  @ApiPropertyOptional({ type: String, description: 'Occurred before (exclusive): epoch milliseconds or an ISO 8601 date-time.' })
  @IsOptional()
  @ToEpochMs()
  @IsInt({ message: 'to must be epoch milliseconds or an ISO 8601 date' })
  @Min(0)
  to?: number;

  @ApiPropertyOptional({ format: 'uuid', description: 'Box id (see /boxes).' })
  @IsOptional()
  @IsUUID('all')
  boxId?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Media device id.' })
  @IsOptional()
  @IsUUID('all')
  mediaDeviceId?: string;

  @ApiPropertyOptional({ description: 'user_type as sent: employee, visitor, blacklist, stranger, vip, …' })
  @IsOptional()
  @IsString()
  @MaxLength(32)
  userType?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Only records of this person (any of its identities, see /persons).' })
  @IsOptional()
  @IsUUID('all')
  personId?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Only records of this identity.' })
  @IsOptional()
  @IsUUID('all')
  identityId?: string;

  @ApiPropertyOptional({ enum: GROUP_BY, default: 'record', description: 'record, or the best record per identity or person.' })
  @IsOptional()
  @IsIn(GROUP_BY)
  groupBy?: (typeof GROUP_BY)[number];
}

export class FaceSearchRequestDto extends FaceSearchOptionsDto {
  @ApiPropertyOptional({
    description: 'Probe feature: base64 of 512 little-endian float32 (as boxes send it), or an array of 512 numbers.',
    oneOf: [
      { type: 'string', format: 'byte' },
      { type: 'array', items: { type: 'number' }, minItems: 512, maxItems: 512 },
    ],
  })
  @IsOptional()
  feature?: string | number[];

  @ApiPropertyOptional({ format: 'uuid', description: "Probe: this record's feature (the record itself is left out of the answer)." })
  @IsOptional()
  @IsUUID('all')
  recordId?: string;

  @ApiPropertyOptional({ format: 'uuid', description: "Probe: a face-library face's feature." })
  @IsOptional()
  @IsUUID('all')
  faceId?: string;
}

export class FaceSearchHitDto {
  @ApiProperty({ minimum: -1, maximum: 1, description: 'Exact cosine similarity with the probe (6 decimals).', example: 0.83 })
  similarity: number;

  @ApiProperty({ type: RecordSummaryDto })
  record: RecordSummaryDto;

  @ApiProperty({ format: 'uuid', nullable: true, type: String, description: "The record identity's person (null: no identity)." })
  personId: string | null;
}

export class FaceSearchResultDto {
  @ApiProperty({ type: [FaceSearchHitDto], description: 'Best first.' })
  items: FaceSearchHitDto[];

  @ApiProperty({ description: 'Vectors the search considered: the whole index, or those its filters admit.' })
  searched: number;
}
