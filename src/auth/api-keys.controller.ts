import { Body, Controller, Delete, Get, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ErrorResponseDto } from '../common/error-response.dto';
import { UuidParam } from '../common/uuid-param';
import { ApiKeysService } from './api-keys.service';
import { Principal, RequireRole } from './auth.decorators';
import { ApiKeyDto, CreateApiKeyDto, CreatedApiKeyDto } from './dto/api-key.dto';
import type { ApiPrincipal } from './roles';

@ApiTags('api-keys')
@Controller('api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Post()
  @RequireRole('admin')
  @ApiOperation({ operationId: 'createApiKey', summary: 'Create an API key (admin). The key is returned once.' })
  @ApiCreatedResponse({ type: CreatedApiKeyDto })
  async create(@Body() body: CreateApiKeyDto, @Principal() principal: ApiPrincipal): Promise<CreatedApiKeyDto> {
    const { key, record } = await this.keys.create(body.name, body.role, principal.actor);
    return { ...ApiKeyDto.from(record), key };
  }

  @Get()
  @RequireRole('admin')
  @ApiOperation({ operationId: 'listApiKeys', summary: 'List API keys (admin). Keys themselves are never shown again.' })
  @ApiOkResponse({ type: [ApiKeyDto] })
  async list(): Promise<ApiKeyDto[]> {
    return (await this.keys.list()).map(ApiKeyDto.from);
  }

  @Delete(':id')
  @RequireRole('admin')
  @ApiOperation({ operationId: 'revokeApiKey', summary: 'Revoke an API key (admin); it is refused from then on.' })
  @ApiOkResponse({ type: ApiKeyDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  async revoke(@UuidParam('id') id: string, @Principal() principal: ApiPrincipal): Promise<ApiKeyDto> {
    const key = await this.keys.revoke(id, principal.actor);
    return ApiKeyDto.from(key);
  }
}
