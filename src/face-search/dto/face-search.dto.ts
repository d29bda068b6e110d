import { ApiProperty, ApiPropertyOptional, PickType } from '@nestjs/swagger';
import { IsIn, IsInt, IsNumber, IsOptional, IsString, IsUUID, Max, MaxLength, Min } from 'class-validator';
import { ToEpochMs, ToNumber } from '../../common/query-transforms';
import { RecordSummaryDto } from '../../recognition-records/dto/record.dto';
import { RecordFilterDto } from '../../recognition-records/dto/record-query.dto';

const GROUP_BY = ['record', 'identity', 'person'] as const;

/** The record filters face search takes, validated and documented as GET /records does. */
const SearchFilters = PickType(RecordFilterDto, ['from', 'to', 'boxId', 'mediaDeviceId', 'userType', 'personId', 'identityId'] as const);

/** Options and filters shared by POST /faces/search (body) and GET /records/{id}/similar (query string). */
export class FaceSearchOptionsDto extends SearchFilters {
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
