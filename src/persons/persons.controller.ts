import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Principal, RequireRole } from '../auth/auth.decorators';
import type { ApiPrincipal } from '../auth/roles';
import { ErrorResponseDto } from '../common/error-response.dto';
import { UuidParam } from '../common/uuid-param';
import {
  LinkIdentityDto,
  PersonDetailDto,
  PersonListQueryDto,
  PersonPageDto,
  PresencePageDto,
  PresenceQueryDto,
  SuggestionListDto,
} from './dto/person.dto';
import { PersonsQueryService } from './persons-query.service';
import { PersonsService } from './persons.service';

/** Default presence window when `since` is not given. */
const PRESENCE_DEFAULT_WINDOW_MS = 60 * 60 * 1000;

@ApiTags('persons')
@Controller('persons')
export class PersonsController {
  constructor(
    private readonly persons: PersonsService,
    private readonly query: PersonsQueryService,
  ) {}

  @Get()
  @ApiOperation({ operationId: 'listPersons', summary: 'Persons (identities that are one human), most recently seen first.' })
  @ApiOkResponse({ type: PersonPageDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  list(@Query() q: PersonListQueryDto): Promise<PersonPageDto> {
    const { limit, cursor, ...filter } = q;
    return this.query.list(filter, limit, cursor);
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getPerson', summary: 'One person: its identities with their current faces (links), first and last seen.' })
  @ApiOkResponse({ type: PersonDetailDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  get(@UuidParam('id') id: string): Promise<PersonDetailDto> {
    return this.query.get(id);
  }

  @Get(':id/suggestions')
  @ApiOperation({ operationId: 'listPersonSuggestions', summary: 'Identities that may be this person, for an operator to link or reject.' })
  @ApiOkResponse({ type: SuggestionListDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  suggestions(@UuidParam('id') id: string): Promise<SuggestionListDto> {
    return this.query.suggestions(id);
  }

  @Post(':id/link')
  @HttpCode(200)
  @RequireRole('admin')
  @ApiOperation({
    operationId: 'linkPersonIdentity',
    summary: 'Put an identity into this person (admin; audited): person.identities-linked. Lifts earlier rejections of the pair.',
  })
  @ApiOkResponse({ type: PersonDetailDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  async link(@UuidParam('id') id: string, @Body() body: LinkIdentityDto, @Principal() principal: ApiPrincipal): Promise<PersonDetailDto> {
    await this.persons.link(id, body.identityId, principal.actor);
    return this.query.get(id);
  }

  @Post(':id/unlink')
  @HttpCode(200)
  @RequireRole('admin')
  @ApiOperation({
    operationId: 'unlinkPersonIdentity',
    summary:
      'Take an identity out of this person (admin; audited): it becomes its own person and is never linked back automatically. person.identity-unlinked.',
  })
  @ApiOkResponse({ type: PersonDetailDto, description: 'This person after the change.' })
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  async unlink(@UuidParam('id') id: string, @Body() body: LinkIdentityDto, @Principal() principal: ApiPrincipal): Promise<PersonDetailDto> {
    await this.persons.unlink(id, body.identityId, principal.actor);
    return this.query.get(id);
  }

  @Post(':id/suggestions/:sid/reject')
  @HttpCode(200)
  @RequireRole('admin')
  @ApiOperation({
    operationId: 'rejectPersonSuggestion',
    summary: 'Reject a suggestion (admin; audited): the identity is never linked to this person automatically. person.suggestion-rejected.',
  })
  @ApiOkResponse({ type: SuggestionListDto, description: 'The person’s suggestions after the change.' })
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  async reject(
    @UuidParam('id') id: string,
    @UuidParam('sid') sid: string,
    @Principal() principal: ApiPrincipal,
  ): Promise<SuggestionListDto> {
    await this.persons.rejectSuggestion(id, sid, principal.actor);
    return this.query.suggestions(id);
  }
}

@ApiTags('persons')
@Controller('presence')
export class PresenceController {
  constructor(private readonly query: PersonsQueryService) {}

  @Get()
  @ApiOperation({
    operationId: 'getPresence',
    summary: 'Who was seen since `since` (default one hour ago), each person with its newest sighting, newest first.',
  })
  @ApiOkResponse({ type: PresencePageDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto })
  presence(@Query() q: PresenceQueryDto): Promise<PresencePageDto> {
    const { limit, cursor, since, ...filter } = q;
    return this.query.presence({ since: since ?? Date.now() - PRESENCE_DEFAULT_WINDOW_MS, ...filter }, limit, cursor);
  }
}
