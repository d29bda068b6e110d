import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { ToEpochMs } from '../../common/query-transforms';
import { SEVERITIES, WEEKDAYS } from '../alert-rule.types';

export const USER_TYPES = ['employee', 'visitor', 'blacklist', 'stranger', 'vip'];
const TIME = /^(([01]\d|2[0-3]):[0-5]\d|24:00)$/;
const MAX_IDS = 500;

export class ScheduleWindowDto {
  @ApiProperty({
    type: 'array',
    items: { type: 'string', enum: [...WEEKDAYS] },
    minItems: 1,
    maxItems: 7,
    example: ['mon', 'tue', 'wed', 'thu', 'fri'],
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(7)
  @IsIn([...WEEKDAYS], { each: true, message: `days must hold values of: ${WEEKDAYS.join(', ')}` })
  days: string[];

  @ApiProperty({ example: '20:00', pattern: TIME.source, description: 'Local start time, HH:MM.' })
  @Matches(TIME, { message: 'from must be a time HH:MM (00:00-24:00)' })
  from: string;

  @ApiProperty({
    example: '06:00',
    pattern: TIME.source,
    description: 'Local end time, HH:MM, exclusive. At or before `from`: the window runs past midnight into the next day.',
  })
  @Matches(TIME, { message: 'to must be a time HH:MM (00:00-24:00)' })
  to: string;
}

export class ScheduleDto {
  @ApiPropertyOptional({ example: 'Europe/Berlin', description: 'IANA time zone of the windows; default ALERT_TIME_ZONE.' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  timeZone?: string;

  @ApiProperty({ type: [ScheduleWindowDto], minItems: 1, maxItems: 20, description: 'A record matches when it falls in any window.' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(20)
  @ValidateNested({ each: true })
  @Type(() => ScheduleWindowDto)
  windows: ScheduleWindowDto[];
}

/** An optional list of ids (uuids) of boxes, media devices or identities. */
const uuidList = (description: string) =>
  applyDecorators(
    ApiPropertyOptional({ type: 'array', items: { type: 'string', format: 'uuid' }, maxItems: MAX_IDS, description }),
    IsOptional(),
    IsArray(),
    ArrayMaxSize(MAX_IDS),
    IsUUID('all', { each: true }),
  );

/** An optional list of person ids (up to 64 characters each). */
const personList = (description: string) =>
  applyDecorators(
    ApiPropertyOptional({ type: 'array', items: { type: 'string', maxLength: 64 }, maxItems: MAX_IDS, description }),
    IsOptional(),
    IsArray(),
    ArrayMaxSize(MAX_IDS),
    IsString({ each: true }),
    MinLength(1, { each: true }),
    MaxLength(64, { each: true }),
  );

/** What a record must match: every condition given must hold; an absent (or null, or empty) one matches all. */
export class AlertRuleConditionsDto {
  @ApiPropertyOptional({
    type: 'array',
    items: { type: 'string', enum: USER_TYPES },
    example: ['stranger'],
    description: 'user_type of the record.',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(USER_TYPES.length)
  @IsIn(USER_TYPES, { each: true, message: `userTypes must hold values of: ${USER_TYPES.join(', ')}` })
  userTypes?: string[] | null;

  @ApiPropertyOptional({ type: Boolean, description: 'Only unknown people: strangers (user_type stranger) and records without identity.' })
  @IsOptional()
  @IsBoolean()
  unknownOnly?: boolean | null;

  @personList('Include list of persons (see /persons).')
  personIds?: string[] | null;

  @uuidList('Include list of identities (see /identities). With personIds: on either list.')
  identityIds?: string[] | null;

  @personList('Persons that never match.')
  excludePersonIds?: string[] | null;

  @uuidList('Identities that never match.')
  excludeIdentityIds?: string[] | null;

  @uuidList('Boxes (see /boxes).')
  boxIds?: string[] | null;

  @uuidList('Media devices (cameras; see /boxes/{id}).')
  mediaDeviceIds?: string[] | null;

  @ApiPropertyOptional({ type: ScheduleDto, description: "Weekly schedule, matched against the record's box event time." })
  @IsOptional()
  @ValidateNested()
  @Type(() => ScheduleDto)
  schedule?: ScheduleDto | null;

  @ApiPropertyOptional({
    type: Number,
    minimum: 0,
    maximum: 1,
    description: 'Minimum normalised score; a record without a usable score does not match.',
  })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1)
  minScore?: number | null;

  @ApiPropertyOptional({ type: Boolean, description: 'true: only records stored with defects; false: only records without.' })
  @IsOptional()
  @IsBoolean()
  hasDefects?: boolean | null;
}

export class CreateAlertRuleDto extends AlertRuleConditionsDto {
  @ApiProperty({ example: 'After hours at the back door', maxLength: 200 })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name: string;

  @ApiProperty({ enum: [...SEVERITIES], example: 'warning' })
  @IsIn([...SEVERITIES], { message: `severity must be one of: ${SEVERITIES.join(', ')}` })
  severity: string;

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    maximum: 604800,
    default: 0,
    description:
      'Per (person or identity, media device): no second alert within this many seconds of one, by box event time. 0: every record.',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(604800)
  cooldownSeconds?: number;
}

export class UpdateAlertRuleDto extends PartialType(CreateAlertRuleDto) {}

export class ScheduleWindowViewDto {
  @ApiProperty({ type: [String] }) days: string[];
  @ApiProperty() from: string;
  @ApiProperty() to: string;
}

export class ScheduleViewDto {
  @ApiProperty({ type: String, nullable: true, description: 'null: ALERT_TIME_ZONE.' }) timeZone: string | null;
  @ApiProperty({ type: [ScheduleWindowViewDto] }) windows: ScheduleWindowViewDto[];
}

export class AlertRuleDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty() enabled: boolean;
  @ApiProperty({ enum: [...SEVERITIES] }) severity: string;
  @ApiProperty({ type: 'integer' }) cooldownSeconds: number;
  @ApiProperty({ type: [String], nullable: true }) userTypes: string[] | null;
  @ApiProperty() unknownOnly: boolean;
  @ApiProperty({ type: [String], nullable: true }) personIds: string[] | null;
  @ApiProperty({ type: [String], nullable: true }) identityIds: string[] | null;
  @ApiProperty({ type: [String], nullable: true }) excludePersonIds: string[] | null;
  @ApiProperty({ type: [String], nullable: true }) excludeIdentityIds: string[] | null;
  @ApiProperty({ type: [String], nullable: true }) boxIds: string[] | null;
  @ApiProperty({ type: [String], nullable: true }) mediaDeviceIds: string[] | null;
  @ApiProperty({ type: ScheduleViewDto, nullable: true }) schedule: ScheduleViewDto | null;
  @ApiProperty({ type: Number, nullable: true }) minScore: number | null;
  @ApiProperty({ type: Boolean, nullable: true }) hasDefects: boolean | null;
  @ApiProperty({ type: 'integer', format: 'int64', description: 'Epoch ms.' }) createdAt: number;
  @ApiProperty({ type: 'integer', format: 'int64', description: 'Epoch ms.' }) updatedAt: number;
}

export class AlertRuleDryRunDto {
  @ApiProperty({ type: CreateAlertRuleDto, description: 'The rule as it would be saved.' })
  @ValidateNested()
  @Type(() => CreateAlertRuleDto)
  rule: CreateAlertRuleDto;

  @ApiProperty({ type: String, example: '2026-11-01T00:00:00Z', description: 'Box event time from (inclusive): epoch ms or ISO 8601.' })
  @ToEpochMs()
  @IsInt({ message: 'from must be epoch milliseconds or an ISO 8601 date' })
  @Min(0)
  from: number;

  @ApiProperty({
    type: String,
    example: '2026-11-08T00:00:00Z',
    description: 'Box event time to (exclusive): epoch ms or ISO 8601. At most 31 days after `from`.',
  })
  @ToEpochMs()
  @IsInt({ message: 'to must be epoch milliseconds or an ISO 8601 date' })
  @Min(0)
  to: number;
}

export class DryRunMatchDto {
  @ApiProperty({ format: 'uuid' }) recordId: string;
  @ApiProperty({ type: 'integer', format: 'int64', description: 'Box event time, epoch ms.' }) occurredAt: number;
  @ApiProperty({ format: 'uuid' }) boxId: string;
  @ApiProperty({ format: 'uuid' }) mediaDeviceId: string;
  @ApiProperty({ type: String, nullable: true }) personId: string | null;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) identityId: string | null;
  @ApiProperty() identityExternalId: string;
  @ApiProperty({ type: String, nullable: true }) identityName: string | null;
  @ApiProperty({ type: String, nullable: true }) userType: string | null;
  @ApiProperty({ type: Number, nullable: true }) score: number | null;
}

export class AlertRuleDryRunResultDto {
  @ApiProperty({ type: [DryRunMatchDto], description: 'Records that would have raised an alert, oldest first (at most 1,000).' })
  items: DryRunMatchDto[];
  @ApiProperty({ type: 'integer', description: 'How many records would have raised an alert (items holds the first 1,000).' })
  matched: number;
  @ApiProperty({ type: 'integer', description: 'Records that matched but fell within the cooldown of an earlier match.' })
  suppressedByCooldown: number;
  @ApiProperty({ type: 'integer', description: 'Records read (at most 10,000).' })
  scanned: number;
  @ApiProperty({ description: 'true when the window held more records than were read: run again from `scannedUntil`.' })
  truncated: boolean;
  @ApiProperty({
    type: 'integer',
    format: 'int64',
    description: 'Box event time up to which records were read (exclusive when not truncated).',
  })
  scannedUntil: number;
}
