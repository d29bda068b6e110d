import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import {
  ApiBody,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { Principal, RequireRole } from '../../auth/auth.decorators';
import type { ApiPrincipal } from '../../auth/roles';
import { ErrorResponseDto } from '../../common/error-response.dto';
import { UuidParam } from '../../common/uuid-param';
import {
  CreatedWebhookSubscriptionDto,
  CreateWebhookSubscriptionDto,
  ListDeliveriesQueryDto,
  UpdateWebhookSubscriptionDto,
  WebhookDeliveryDetailDto,
  WebhookDeliveryPageDto,
  WebhookSubscriptionDto,
} from './dto/webhook.dto';
import { WebhookSubscriptionsService } from './webhook-subscriptions.service';
import { WEBHOOK_FORMAT } from '../event-envelope.openapi';

@ApiTags('webhooks')
@Controller('webhooks')
export class WebhooksController {
  constructor(private readonly subscriptions: WebhookSubscriptionsService) {}

  @Post('subscriptions')
  @RequireRole('admin')
  @ApiOperation({
    operationId: 'createWebhookSubscription',
    summary: 'Subscribe a URL to domain events (admin). The signing secret is returned only here.',
    description: WEBHOOK_FORMAT,
  })
  @ApiBody({
    type: CreateWebhookSubscriptionDto,
    // Pre-filled in Swagger UI: without a secret, one is generated (a sample secret would be shared by everyone).
    examples: {
      alerts: {
        summary: 'Blacklist and VIP alerts',
        value: { url: 'https://siem.example.com/hooks/recognition-hub', eventTypes: ['alert.blacklist-seen', 'alert.vip-seen'] },
      },
    },
  })
  @ApiCreatedResponse({ type: CreatedWebhookSubscriptionDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto })
  async create(@Body() body: CreateWebhookSubscriptionDto, @Principal() principal: ApiPrincipal): Promise<CreatedWebhookSubscriptionDto> {
    return this.subscriptions.create(body, principal.actor);
  }

  @Get('subscriptions')
  @RequireRole('admin')
  @ApiOperation({ operationId: 'listWebhookSubscriptions', summary: 'All webhook subscriptions (admin; secrets are never shown again).' })
  @ApiOkResponse({ type: [WebhookSubscriptionDto] })
  list(): Promise<WebhookSubscriptionDto[]> {
    return this.subscriptions.list();
  }

  @Get('subscriptions/:id')
  @RequireRole('admin')
  @ApiOperation({ operationId: 'getWebhookSubscription', summary: 'One webhook subscription (admin; without its secret).' })
  @ApiOkResponse({ type: WebhookSubscriptionDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  get(@UuidParam('id') id: string): Promise<WebhookSubscriptionDto> {
    return this.subscriptions.get(id);
  }

  @Patch('subscriptions/:id')
  @RequireRole('admin')
  @ApiOperation({ operationId: 'updateWebhookSubscription', summary: 'Change URL, event types, description or enabled (admin).' })
  @ApiOkResponse({ type: WebhookSubscriptionDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  async update(
    @UuidParam('id') id: string,
    @Body() body: UpdateWebhookSubscriptionDto,
    @Principal() principal: ApiPrincipal,
  ): Promise<WebhookSubscriptionDto> {
    return this.subscriptions.update(id, body, principal.actor);
  }

  @Delete('subscriptions/:id')
  @RequireRole('admin')
  @HttpCode(204)
  @ApiOperation({ operationId: 'deleteWebhookSubscription', summary: 'Delete a subscription with its delivery log (admin).' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  async remove(@UuidParam('id') id: string, @Principal() principal: ApiPrincipal): Promise<void> {
    await this.subscriptions.remove(id, principal.actor);
  }

  @Get('subscriptions/:id/deliveries')
  @RequireRole('admin')
  @ApiOperation({
    operationId: 'listWebhookDeliveries',
    summary: 'Deliveries of a subscription, newest event first, with status and last outcome (admin).',
  })
  @ApiOkResponse({ type: WebhookDeliveryPageDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  deliveries(@UuidParam('id') id: string, @Query() query: ListDeliveriesQueryDto): Promise<WebhookDeliveryPageDto> {
    return this.subscriptions.deliveries(id, query);
  }

  @Get('deliveries/:id')
  @RequireRole('admin')
  @ApiOperation({ operationId: 'getWebhookDelivery', summary: 'One delivery with every attempt: status code, error, duration (admin).' })
  @ApiOkResponse({ type: WebhookDeliveryDetailDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  delivery(@UuidParam('id') id: string): Promise<WebhookDeliveryDetailDto> {
    return this.subscriptions.delivery(id);
  }
}
