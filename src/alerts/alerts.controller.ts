import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Principal } from '../auth/auth.decorators';
import type { ApiPrincipal } from '../auth/roles';
import { ErrorResponseDto } from '../common/error-response.dto';
import { UuidParam } from '../common/uuid-param';
import { AlertsService } from './alerts.service';
import { AcknowledgeAlertDto, AlertDto, AlertPageDto, AlertQueryDto } from './dto/alert.dto';

/** Operators' view of alerts: any key (reader is enough), including acknowledging, which is audited. */
@ApiTags('alerts')
@Controller('alerts')
export class AlertsController {
  constructor(private readonly alerts: AlertsService) {}

  @Get()
  @ApiOperation({ operationId: 'listAlerts', summary: 'Alerts, newest raised first, with filters and cursor pages.' })
  @ApiOkResponse({ type: AlertPageDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto })
  list(@Query() query: AlertQueryDto): Promise<AlertPageDto> {
    return this.alerts.list(query);
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getAlert', summary: 'One alert.' })
  @ApiOkResponse({ type: AlertDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  get(@UuidParam('id') id: string): Promise<AlertDto> {
    return this.alerts.get(id);
  }

  @Post(':id/acknowledge')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'acknowledgeAlert',
    summary: 'Acknowledge an alert, with an optional comment. Audited; emits alert.acknowledged. Already acknowledged: answered as it is.',
  })
  @ApiOkResponse({ type: AlertDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  acknowledge(@UuidParam('id') id: string, @Body() body: AcknowledgeAlertDto, @Principal() principal: ApiPrincipal): Promise<AlertDto> {
    return this.alerts.acknowledge(id, body.comment ?? null, principal.actor);
  }
}
