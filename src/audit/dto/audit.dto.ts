import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { PageQueryDto } from '../../common/page-query.dto';
import { AuditEntry } from '../entities/audit-entry.entity';

export class AuditQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Only entries by this actor, e.g. api-key:<id>.' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  actor?: string;

  @ApiPropertyOptional({ description: 'Only this action, e.g. record.image.read.' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  action?: string;

  @ApiPropertyOptional({ description: 'Only this subject type, e.g. recognition-record.' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  subjectType?: string;

  @ApiPropertyOptional({ description: 'Only this subject id.' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  subjectId?: string;
}

export class AuditEntryDto {
  @ApiProperty({ description: 'Sequence number (string: it is 64-bit).' })
  id: string;

  @ApiProperty({ description: 'When, epoch milliseconds.' })
  at: number;

  @ApiProperty({ example: 'api-key:0b6f…' })
  actor: string;

  @ApiProperty({ example: 'record.image.read' })
  action: string;

  @ApiProperty({ example: 'recognition-record' })
  subjectType: string;

  @ApiProperty()
  subjectId: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, nullable: true, description: 'Ids and small facts about the action.' })
  details: Record<string, unknown> | null;

  static from(e: AuditEntry): AuditEntryDto {
    return {
      id: String(e.id),
      at: e.at,
      actor: e.actor,
      action: e.action,
      subjectType: e.subjectType,
      subjectId: e.subjectId,
      details: e.details,
    };
  }
}

export class AuditPageDto {
  @ApiProperty({ type: [AuditEntryDto] })
  items: AuditEntryDto[];

  @ApiProperty({ nullable: true, type: String, description: 'Pass as cursor for the next page; null at the end.' })
  nextCursor: string | null;
}
