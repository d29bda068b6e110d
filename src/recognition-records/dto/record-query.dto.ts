import { ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { PageQueryDto } from '../../common/page-query.dto';
import { IsBoolean, IsInt, IsNumber, IsOptional, IsString, IsUUID, Max, MaxLength, Min } from 'class-validator';
import { ToBoolean, ToEpochMs, ToNumber } from '../../common/query-transforms';

/** Filters shared by the record list and the CSV export. */
export class RecordFilterDto {
  @ApiPropertyOptional({
    type: String,
    description: 'Occurred at or after: epoch milliseconds (e.g. 1793491200000) or an ISO 8601 date-time (e.g. 2026-11-01T00:00:00Z).',
  })
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

  @ApiPropertyOptional({ description: 'Box id (see /boxes).', format: 'uuid' })
  @IsOptional()
  @IsUUID('all')
  boxId?: string;

  @ApiPropertyOptional({ description: 'Media device id (see /boxes/{id}).', format: 'uuid' })
  @IsOptional()
  @IsUUID('all')
  mediaDeviceId?: string;

  @ApiPropertyOptional({ description: 'Identity id (see /identities).', format: 'uuid' })
  @IsOptional()
  @IsUUID('all')
  identityId?: string;

  @ApiPropertyOptional({ description: 'Person id (see /persons): records of any of its identities.', format: 'uuid' })
  @IsOptional()
  @IsUUID('all')
  personId?: string;

  @ApiPropertyOptional({ description: 'identity_id as the box sent it.' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  identityExternalId?: string;

  @ApiPropertyOptional({ description: 'user_type as sent: employee, visitor, blacklist, stranger, vip, …' })
  @IsOptional()
  @IsString()
  @MaxLength(32)
  userType?: string;

  @ApiPropertyOptional({ description: 'post_action as sent: 0, 1001 (stranger registered), 1002 (face updated).' })
  @IsOptional()
  @IsString()
  @MaxLength(16)
  postAction?: string;

  @ApiPropertyOptional({ description: 'Minimum normalised score (0-1).', minimum: 0, maximum: 1 })
  @IsOptional()
  @ToNumber()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1)
  minScore?: number;

  @ApiPropertyOptional({ description: 'true: only records stored with defects; false: only records without.' })
  @IsOptional()
  @ToBoolean()
  @IsBoolean()
  hasDefects?: boolean;
}

export class RecordListQueryDto extends IntersectionType(RecordFilterDto, PageQueryDto) {}

export class RecordExportQueryDto extends RecordFilterDto {
  @ApiPropertyOptional({
    description: 'Start the file with a UTF-8 byte order mark, for spreadsheet programs that otherwise guess the code page (Excel).',
    type: Boolean,
    default: false,
  })
  @IsOptional()
  @ToBoolean()
  @IsBoolean()
  bom?: boolean;
}
