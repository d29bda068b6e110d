import { Body, Controller, Get, Patch, Query } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Principal, RequireRole } from '../auth/auth.decorators';
import type { ApiPrincipal } from '../auth/roles';
import { ErrorResponseDto } from '../common/error-response.dto';
import { UuidParam } from '../common/uuid-param';
import { DevicesQueryService } from './devices-query.service';
import { BoxDetailDto, BoxListQueryDto, BoxPageDto, UpdateBoxDto } from './dto/device.dto';

@ApiTags('devices')
@Controller('boxes')
export class DevicesController {
  constructor(private readonly devices: DevicesQueryService) {}

  @Get()
  @ApiOperation({
    operationId: 'listBoxes',
    summary: 'Boxes that have pushed, in the order they first pushed, with first/last seen and record counts; keyset-paginated.',
  })
  @ApiOkResponse({ type: BoxPageDto })
  listBoxes(@Query() q: BoxListQueryDto): Promise<BoxPageDto> {
    return this.devices.listBoxes(q.limit, q.cursor);
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getBox', summary: 'One box with its media devices (cameras, terminals) and their record counts.' })
  @ApiOkResponse({ type: BoxDetailDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  getBox(@UuidParam('id') id: string): Promise<BoxDetailDto> {
    return this.devices.getBox(id);
  }

  @Patch(':id')
  @RequireRole('admin')
  @ApiOperation({
    operationId: 'updateBox',
    summary: "Rename, enable or disable a box (admin). A disabled box's pushes are refused with 403.",
  })
  @ApiOkResponse({ type: BoxDetailDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto })
  async updateBox(@UuidParam('id') id: string, @Body() body: UpdateBoxDto, @Principal() principal: ApiPrincipal): Promise<BoxDetailDto> {
    await this.devices.getBox(id);
    return this.devices.updateBox(id, { name: body.name, enabled: body.enabled }, principal.actor);
  }
}
