import { Body, Controller, Delete, Get, HttpCode, Patch, Post } from '@nestjs/common';
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
import { Principal, RequireRole } from '../auth/auth.decorators';
import type { ApiPrincipal } from '../auth/roles';
import { ErrorResponseDto } from '../common/error-response.dto';
import { UuidParam } from '../common/uuid-param';
import { AlertRulesService } from './alert-rules.service';
import { AlertsService } from './alerts.service';
import { AlertRuleDryRunDto, AlertRuleDryRunResultDto, AlertRuleDto, CreateAlertRuleDto, UpdateAlertRuleDto } from './dto/alert-rule.dto';

const EXAMPLE_RULE = {
  name: 'Strangers at night',
  severity: 'warning',
  unknownOnly: true,
  schedule: { timeZone: 'Europe/Berlin', windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '20:00', to: '06:00' }] },
  minScore: 0.6,
  cooldownSeconds: 300,
};

@ApiTags('alert-rules')
@Controller('alert-rules')
export class AlertRulesController {
  constructor(
    private readonly rules: AlertRulesService,
    private readonly alerts: AlertsService,
  ) {}

  @Post()
  @RequireRole('admin')
  @ApiOperation({ operationId: 'createAlertRule', summary: 'Create an alert rule (admin). Audited.' })
  @ApiBody({
    type: CreateAlertRuleDto,
    examples: { night: { summary: 'Strangers at night, once per 5 minutes per camera', value: EXAMPLE_RULE } },
  })
  @ApiCreatedResponse({ type: AlertRuleDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto })
  create(@Body() body: CreateAlertRuleDto, @Principal() principal: ApiPrincipal): Promise<AlertRuleDto> {
    return this.rules.create(body, principal.actor);
  }

  @Get()
  @RequireRole('admin')
  @ApiOperation({ operationId: 'listAlertRules', summary: 'All alert rules, oldest first (admin).' })
  @ApiOkResponse({ type: [AlertRuleDto] })
  list(): Promise<AlertRuleDto[]> {
    return this.rules.list();
  }

  @Post('dry-run')
  @RequireRole('admin')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'dryRunAlertRule',
    summary: 'Which stored records a rule would have raised alerts for in a time window (admin). Saves nothing.',
    description:
      'Records are read by box event time, oldest first: a window of at most 31 days and at most 10,000 records (`truncated` ' +
      'says there were more: run again from `scannedUntil`). The cooldown counts matches within the window; alerts already raised do not count.',
  })
  @ApiBody({
    type: AlertRuleDryRunDto,
    examples: {
      night: {
        summary: 'Strangers at night, one week',
        value: { rule: EXAMPLE_RULE, from: '2026-11-01T00:00:00Z', to: '2026-11-08T00:00:00Z' },
      },
    },
  })
  @ApiOkResponse({ type: AlertRuleDryRunResultDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto })
  dryRun(@Body() body: AlertRuleDryRunDto): Promise<AlertRuleDryRunResultDto> {
    return this.alerts.dryRun(body);
  }

  @Get(':id')
  @RequireRole('admin')
  @ApiOperation({ operationId: 'getAlertRule', summary: 'One alert rule (admin).' })
  @ApiOkResponse({ type: AlertRuleDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  get(@UuidParam('id') id: string): Promise<AlertRuleDto> {
    return this.rules.get(id);
  }

  @Patch(':id')
  @RequireRole('admin')
  @ApiOperation({ operationId: 'updateAlertRule', summary: 'Change fields of a rule; null (or []) lifts a condition (admin). Audited.' })
  @ApiOkResponse({ type: AlertRuleDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  update(@UuidParam('id') id: string, @Body() body: UpdateAlertRuleDto, @Principal() principal: ApiPrincipal): Promise<AlertRuleDto> {
    return this.rules.update(id, body, principal.actor);
  }

  @Delete(':id')
  @RequireRole('admin')
  @HttpCode(204)
  @ApiOperation({ operationId: 'deleteAlertRule', summary: 'Delete a rule; the alerts it raised stay (admin). Audited.' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  async remove(@UuidParam('id') id: string, @Principal() principal: ApiPrincipal): Promise<void> {
    await this.rules.remove(id, principal.actor);
  }
}
