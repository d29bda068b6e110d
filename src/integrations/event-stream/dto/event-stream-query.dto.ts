import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { DOMAIN_EVENT_CLASSES } from '../../../events/domain-events';

/** "a,b" or ?x=a&x=b → ["a","b"]. */
const ToList = () =>
  Transform(({ value }) =>
    (Array.isArray(value) ? value : [value]).flatMap((v) => (typeof v === 'string' ? v.split(',') : [v])).map((v) => (typeof v === 'string' ? v.trim() : v)).filter((v) => v !== ''),
  );

export const domainEventTypes = (): string[] => DOMAIN_EVENT_CLASSES.map((c) => c.type);

export class EventStreamQueryDto {
  @ApiPropertyOptional({
    description: 'Event types to stream, repeated or comma-separated (default: all).',
    type: 'array',
    items: { type: 'string', enum: domainEventTypes() },
  })
  @IsOptional()
  @ToList()
  @ArrayMaxSize(20)
  @IsIn(domainEventTypes(), { each: true, message: `type must be one of: ${domainEventTypes().join(', ')}` })
  type?: string[];

  @ApiPropertyOptional({ description: 'Only events of this box: its id or its license key (mq_license_key).' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  box?: string;

  @ApiPropertyOptional({
    description: 'Only events whose record has one of these user types, repeated or comma-separated, e.g. blacklist,vip.',
    type: 'array',
    items: { type: 'string', maxLength: 32 },
  })
  @IsOptional()
  @ToList()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  @MaxLength(32, { each: true })
  user_type?: string[];

  @ApiPropertyOptional({ description: 'Resume after this event id (for clients that cannot send the Last-Event-ID header).', pattern: '^\\d{1,15}$' })
  @IsOptional()
  @Matches(/^\d{1,15}$/, { message: 'last_event_id must be an event id (digits)' })
  last_event_id?: string;
}
