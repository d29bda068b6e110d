import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { DOMAIN_EVENT_CLASSES } from '../../../events/domain-events';

/** "a,b" or ?x=a&x=b → ["a","b"]. */
const ToList = () =>
  Transform(({ value }) =>
    (Array.isArray(value) ? value : [value])
      .flatMap((v) => (typeof v === 'string' ? v.split(',') : [v]))
      .map((v) => (typeof v === 'string' ? v.trim() : v))
      .filter((v) => v !== ''),
  );

export const domainEventTypes = (): string[] => DOMAIN_EVENT_CLASSES.map((c) => c.type);

/** A stream's filters: on GET /events/stream, and bound into a stream token. */
export class EventStreamFilterDto {
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
}

export class EventStreamQueryDto extends EventStreamFilterDto {
  @ApiPropertyOptional({
    description:
      'A stream token from POST /events/stream-tokens instead of an API key header (for a browser EventSource). ' +
      'The token carries the filters: type, box and user_type may not be given with it.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  token?: string;

  @ApiPropertyOptional({
    description: 'Resume after this event id (for clients that cannot send the Last-Event-ID header).',
    pattern: '^\\d{1,15}$',
  })
  @IsOptional()
  @Matches(/^\d{1,15}$/, { message: 'last_event_id must be an event id (digits)' })
  last_event_id?: string;
}

/** What a stream token is asked for: the stream's filters (as on GET /events/stream) and how long it lasts. */
export class StreamTokenRequestDto extends EventStreamFilterDto {
  @ApiPropertyOptional({
    description: 'Lifetime in seconds (10-3600, default 300). Streams opened with it may reconnect until then.',
    minimum: 10,
    maximum: 3600,
    default: 300,
  })
  @IsOptional()
  @IsInt()
  @Min(10)
  @Max(3600)
  ttlSeconds?: number;
}

export class StreamTokenDto {
  @ApiProperty({ description: 'Pass as ?token= to GET /events/stream. Shown once; only its hash is stored.' })
  token: string;

  @ApiProperty({ description: 'Epoch ms after which the token opens no stream.' })
  expiresAt: number;

  @ApiProperty({ description: 'The stream URL with the token, relative to the hub.', example: '/events/stream?token=rhst_…' })
  streamUrl: string;
}
