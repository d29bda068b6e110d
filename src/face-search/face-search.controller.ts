import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiBody, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Principal, RequireRole } from '../auth/auth.decorators';
import type { ApiPrincipal } from '../auth/roles';
import { ErrorResponseDto } from '../common/error-response.dto';
import { UuidParam } from '../common/uuid-param';
import { RecordSummaryDto } from '../recognition-records/dto/record.dto';
import { FaceSearchOptionsDto, FaceSearchRequestDto, FaceSearchResultDto } from './dto/face-search.dto';
import { FaceSearchQuery, FaceSearchService } from './face-search.service';

/** Swagger UI's pre-filled probe: a valid unit feature (every value 1/sqrt(512)), as a box would send it. */
const EXAMPLE_FEATURE = Buffer.from(new Float32Array(512).fill(1 / Math.sqrt(512)).buffer).toString('base64');

function queryOf(o: FaceSearchOptionsDto): FaceSearchQuery {
  const { limit, groupBy, minSimilarity, from, to, boxId, mediaDeviceId, userType, personId, identityId } = o;
  return {
    limit: limit ?? 20,
    groupBy: groupBy ?? 'record',
    minSimilarity,
    from,
    to,
    boxId,
    mediaDeviceId,
    userType,
    personId,
    identityId,
  };
}

@ApiTags('faces')
@Controller()
export class FaceSearchController {
  constructor(private readonly search: FaceSearchService) {}

  @Post('faces/search')
  @HttpCode(200)
  @RequireRole('biometric-reader')
  @ApiOperation({
    operationId: 'searchFaces',
    summary: 'Records whose face is most similar to a probe (a feature, a record or a library face); biometric-reader, audited.',
  })
  @ApiBody({
    type: FaceSearchRequestDto,
    examples: {
      feature: { summary: 'By a feature (base64)', value: { feature: EXAMPLE_FEATURE, limit: 20 } },
      record: { summary: "By a record's face", value: { recordId: '00000000-0000-4000-8000-000000000000', groupBy: 'identity' } },
    },
  })
  @ApiOkResponse({ type: FaceSearchResultDto })
  @ApiResponse({
    status: 400,
    type: ErrorResponseDto,
    description: 'No probe, two probes, a bad feature, an unknown record or face; field names it.',
  })
  @ApiResponse({ status: 503, type: ErrorResponseDto, description: 'The face index is still loading (face_index_loading).' })
  async searchFaces(@Body() body: FaceSearchRequestDto, @Principal() principal: ApiPrincipal): Promise<FaceSearchResultDto> {
    const probe = await this.search.probeVector(body as Record<string, unknown>);
    return this.answer(await this.search.search(probe, queryOf(body), principal.actor));
  }

  @Get('records/:id/similar')
  @RequireRole('biometric-reader')
  @ApiOperation({
    operationId: 'getSimilarRecords',
    summary: 'POST /faces/search with this record as the probe, options in the query string; biometric-reader, audited.',
  })
  @ApiOkResponse({ type: FaceSearchResultDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'A bad option, or the record has no usable feature; field names it.' })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  @ApiResponse({ status: 503, type: ErrorResponseDto, description: 'The face index is still loading (face_index_loading).' })
  async similar(
    @UuidParam('id') id: string,
    @Query() q: FaceSearchOptionsDto,
    @Principal() principal: ApiPrincipal,
  ): Promise<FaceSearchResultDto> {
    const probe = await this.search.recordProbe(id);
    return this.answer(await this.search.search(probe, queryOf(q), principal.actor));
  }

  private answer(r: Awaited<ReturnType<FaceSearchService['search']>>): FaceSearchResultDto {
    return {
      items: r.items.map((i) => ({ similarity: i.similarity, record: RecordSummaryDto.from(i.record), personId: i.personId })),
      searched: r.searched,
    };
  }
}
