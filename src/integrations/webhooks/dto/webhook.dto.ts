import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { ToNumber } from '../../../common/query-transforms';
import { domainEventTypes } from '../../event-stream/dto/event-stream-query.dto';
import { SECRET_PATTERN } from '../webhook-signature';

const eventTypeChoices = () => ['*', ...domainEventTypes()];
const URL_OPTIONS = { protocols: ['http', 'https'], require_protocol: true, require_tld: false, allow_underscores: true };

export class CreateWebhookSubscriptionDto {
  @ApiProperty({
    example: 'https://siem.example.com/hooks/recognition-hub',
    format: 'uri',
    maxLength: 2000,
    description:
      'http(s) URL the events are POSTed to. Its host must be (or resolve to) an address WEBHOOK_ALLOWED_NETWORKS allows (by default anything but link-local and cloud metadata addresses), else 400.',
  })
  @IsUrl(URL_OPTIONS, { message: 'url must be an http(s) URL' })
  @MaxLength(2000)
  url: string;

  @ApiProperty({
    example: ['alert.blacklist-seen'],
    type: 'array',
    items: { type: 'string', enum: eventTypeChoices() },
    minItems: 1,
    maxItems: 20,
    description: 'Event types to send; ["*"] for all.',
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(20)
  @IsIn(eventTypeChoices(), { each: true, message: `eventTypes must hold values of: ${eventTypeChoices().join(', ')}` })
  eventTypes: string[];

  @ApiPropertyOptional({
    pattern: SECRET_PATTERN.source,
    description: 'Signing secret "whsec_" + base64 (24-64 bytes). Generated when absent (recommended); shown only in this response.',
  })
  @IsOptional()
  @Matches(SECRET_PATTERN, { message: 'secret must be "whsec_" followed by base64 of 24 to 64 bytes' })
  secret?: string;

  @ApiPropertyOptional({ maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  description?: string;

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

export class UpdateWebhookSubscriptionDto {
  @ApiPropertyOptional({
    format: 'uri',
    maxLength: 2000,
    example: 'https://siem.example.com/hooks/recognition-hub',
    description: 'As on create: checked against WEBHOOK_ALLOWED_NETWORKS.',
  })
  @IsOptional()
  @IsUrl(URL_OPTIONS, { message: 'url must be an http(s) URL' })
  @MaxLength(2000)
  url?: string;

  @ApiPropertyOptional({ type: 'array', items: { type: 'string', enum: eventTypeChoices() }, minItems: 1, maxItems: 20 })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(20)
  @IsIn(eventTypeChoices(), { each: true, message: `eventTypes must hold values of: ${eventTypeChoices().join(', ')}` })
  eventTypes?: string[];

  @ApiPropertyOptional({ maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  description?: string;

  @ApiPropertyOptional({ description: 'A disabled subscription gets no new deliveries; pending ones wait until it is enabled.' })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

export class WebhookSubscriptionDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() url: string;
  @ApiProperty({ type: [String] }) eventTypes: string[];
  @ApiProperty({ nullable: true, type: String }) description: string | null;
  @ApiProperty() enabled: boolean;
  @ApiProperty({ description: 'Epoch ms.' }) createdAt: number;
  @ApiProperty({ description: 'Epoch ms.' }) updatedAt: number;
}

export class CreatedWebhookSubscriptionDto extends WebhookSubscriptionDto {
  @ApiProperty({ description: 'The signing secret. Shown only here: store it now.' }) secret: string;
}

export class WebhookDeliveryAttemptDto {
  @ApiProperty() attempt: number;
  @ApiProperty({ description: 'Epoch ms.' }) startedAt: number;
  @ApiProperty() durationMs: number;
  @ApiProperty({ nullable: true, type: Number }) statusCode: number | null;
  @ApiProperty({ nullable: true, type: String }) error: string | null;
  @ApiProperty() succeeded: boolean;
}

export class WebhookDeliveryDto {
  @ApiProperty({ format: 'uuid', description: 'Also the webhook-id header of every attempt.' }) id: string;
  @ApiProperty({ format: 'uuid' }) subscriptionId: string;
  @ApiProperty() eventId: string;
  @ApiProperty() eventType: string;
  @ApiProperty({ enum: ['pending', 'succeeded', 'failed'], description: 'failed = abandoned after WEBHOOK_MAX_ATTEMPTS.' }) status: string;
  @ApiProperty() attempts: number;
  @ApiProperty({ nullable: true, type: Number, description: 'Epoch ms of the next try while pending.' }) nextAttemptAt: number | null;
  @ApiProperty({ nullable: true, type: Number }) lastStatusCode: number | null;
  @ApiProperty({ nullable: true, type: String }) lastError: string | null;
  @ApiProperty() createdAt: number;
  @ApiProperty({ nullable: true, type: Number }) completedAt: number | null;
}

export class WebhookDeliveryDetailDto extends WebhookDeliveryDto {
  @ApiProperty({ type: [WebhookDeliveryAttemptDto] }) attemptLog: WebhookDeliveryAttemptDto[];
}

export class WebhookDeliveryPageDto {
  @ApiProperty({ type: [WebhookDeliveryDto] }) items: WebhookDeliveryDto[];
  @ApiProperty({ nullable: true, type: String, description: 'Pass as cursor for the next (older) page.' }) nextCursor: string | null;
}

export class ListDeliveriesQueryDto {
  @ApiPropertyOptional({ enum: ['pending', 'succeeded', 'failed'] })
  @IsOptional()
  @IsIn(['pending', 'succeeded', 'failed'])
  status?: 'pending' | 'succeeded' | 'failed';

  @ApiPropertyOptional({ type: 'integer', default: 50, minimum: 1, maximum: 500 })
  @IsOptional()
  @ToNumber()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page.', maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;
}
