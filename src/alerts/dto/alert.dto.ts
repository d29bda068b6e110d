import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsString, IsUUID, MaxLength, Min } from 'class-validator';
import { PageQueryDto } from '../../common/page-query.dto';
import { ToEpochMs } from '../../common/query-transforms';
import { SEVERITIES } from '../alert-rule.types';

export const ALERT_STATES = ['open', 'acknowledged'] as const;

export class AlertQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'Rule id (see /alert-rules).' })
  @IsOptional()
  @IsUUID('all')
  ruleId?: string;

  @ApiPropertyOptional({ enum: [...SEVERITIES] })
  @IsOptional()
  @IsIn([...SEVERITIES], { message: `severity must be one of: ${SEVERITIES.join(', ')}` })
  severity?: string;

  @ApiPropertyOptional({ enum: [...ALERT_STATES] })
  @IsOptional()
  @IsIn([...ALERT_STATES], { message: `state must be one of: ${ALERT_STATES.join(', ')}` })
  state?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Box id.' })
  @IsOptional()
  @IsUUID('all')
  boxId?: string;

  @ApiPropertyOptional({ description: 'Person id (see /persons).', maxLength: 64 })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  personId?: string;

  @ApiPropertyOptional({ type: String, description: 'Box event time from (inclusive): epoch ms or ISO 8601.' })
  @IsOptional()
  @ToEpochMs()
  @IsInt({ message: 'from must be epoch milliseconds or an ISO 8601 date' })
  @Min(0)
  from?: number;

  @ApiPropertyOptional({ type: String, description: 'Box event time to (exclusive): epoch ms or ISO 8601.' })
  @IsOptional()
  @ToEpochMs()
  @IsInt({ message: 'to must be epoch milliseconds or an ISO 8601 date' })
  @Min(0)
  to?: number;
}

export class AcknowledgeAlertDto {
  @ApiPropertyOptional({ maxLength: 1000, example: 'Checked on camera, a delivery.' })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  comment?: string;
}

export class AlertDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) ruleId: string;
  @ApiProperty({ description: 'The rule name when the alert was raised.' }) ruleName: string;
  @ApiProperty({ enum: [...SEVERITIES] }) severity: string;
  @ApiProperty({ enum: [...ALERT_STATES] }) state: string;
  @ApiProperty({ format: 'uuid' }) recordId: string;
  @ApiProperty({ format: 'uuid' }) boxId: string;
  @ApiProperty({ format: 'uuid' }) mediaDeviceId: string;
  @ApiProperty({ type: String, nullable: true }) personId: string | null;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) identityId: string | null;
  @ApiProperty() identityExternalId: string;
  @ApiProperty({ type: String, nullable: true }) identityName: string | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Normalised 0-1.' }) score: number | null;
  @ApiProperty({ type: 'integer', format: 'int64', description: 'Box event time of the record, epoch ms.' }) occurredAt: number;
  @ApiProperty({ type: 'integer', format: 'int64', description: 'When the alert was raised, epoch ms.' }) raisedAt: number;
  @ApiProperty({ type: Number, nullable: true, description: 'Epoch ms.' }) acknowledgedAt: number | null;
  @ApiProperty({ type: String, nullable: true }) acknowledgedBy: string | null;
  @ApiProperty({ type: String, nullable: true }) comment: string | null;
}

export class AlertPageDto {
  @ApiProperty({ type: [AlertDto] }) items: AlertDto[];
  @ApiProperty({ nullable: true, type: String, description: 'Pass as cursor for the next (older) page.' }) nextCursor: string | null;
}
