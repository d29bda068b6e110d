import { BadRequestException, Controller, Get, Logger, Param, Query, Req, Res } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AuditService } from '../audit/audit.service';
import { Principal, RequireRole } from '../auth/auth.decorators';
import type { ApiPrincipal } from '../auth/roles';
import { ErrorResponseDto } from '../common/error-response.dto';
import { UuidParam } from '../common/uuid-param';
import { IMAGE_RESPONSE } from '../images/dto/image-response.dto';
import { ImagesService } from '../images/images.service';
import { FeatureVectorDto, RecordDetailDto, RecordPageDto, RecordSummaryDto } from './dto/record.dto';
import { RecordExportQueryDto, RecordListQueryDto } from './dto/record-query.dto';
import { IMAGE_ROLES, ImageRole } from './recognition-record.types';
import { RecordsExportService } from './records-export.service';
import { RecordsQueryService } from './records-query.service';
import { toRecordDetailDto } from './record-dto.mapper';

function imageRole(value: string): ImageRole {
  if (!(IMAGE_ROLES as readonly string[]).includes(value)) {
    throw new BadRequestException({ message: `role must be one of ${IMAGE_ROLES.join(', ')}`, field: 'role' });
  }
  return value as ImageRole;
}

@ApiTags('records')
@Controller('records')
export class RecordsController {
  private readonly logger = new Logger(RecordsController.name);

  constructor(
    private readonly records: RecordsQueryService,
    private readonly exporter: RecordsExportService,
    private readonly images: ImagesService,
    private readonly audit: AuditService,
  ) {}

  @Get()
  @ApiOperation({ operationId: 'listRecords', summary: 'Records, newest first, filtered; keyset-paginated (stable while records arrive).' })
  @ApiOkResponse({ type: RecordPageDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'A filter is invalid; field names it.' })
  async list(@Query() q: RecordListQueryDto): Promise<RecordPageDto> {
    const { limit, cursor, ...filter } = q;
    const page = await this.records.list(filter, limit, cursor);
    return { items: page.items.map(RecordSummaryDto.from), nextCursor: page.nextCursor };
  }

  @Get('export.csv')
  @ApiOperation({ operationId: 'exportRecordsCsv', summary: 'The filtered records as CSV, newest first, streamed (no biometric columns).' })
  @ApiOkResponse({ description: 'CSV with a header row (attachment).', content: { 'text/csv': { schema: { type: 'string' } } } })
  async exportCsv(@Query() query: RecordExportQueryDto, @Res() res: Response): Promise<void> {
    const { bom, ...filter } = query;
    res.status(200);
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', 'attachment; filename="recognition-records.csv"');
    res.setHeader('Cache-Control', 'no-store');
    try {
      await this.exporter.writeCsv(filter, res, { bom });
      if (!res.destroyed) res.end();
    } catch (e) {
      // The 200 and part of the body are already out: abort the connection so the client sees an
      // incomplete transfer instead of a CSV that looks whole.
      this.logger.error(`CSV export failed: ${(e as Error).message}`);
      res.destroy();
    }
  }

  @Get(':id')
  @ApiOperation({
    operationId: 'getRecord',
    summary: 'One record with all its metadata (image references, never image bytes or the feature).',
  })
  @ApiOkResponse({ type: RecordDetailDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  async get(@UuidParam('id') id: string): Promise<RecordDetailDto> {
    return toRecordDetailDto(await this.records.get(id));
  }

  @Get(':id/images/:role')
  @RequireRole('biometric-reader')
  @ApiOperation({
    operationId: 'getRecordImage',
    summary: 'One image of a record as its bytes (biometric-reader; audited). ETag is the sha256; 304 on If-None-Match.',
  })
  @ApiParam({ name: 'role', schema: { type: 'string', enum: [...IMAGE_ROLES], example: 'face' } })
  @ApiOkResponse(IMAGE_RESPONSE)
  @ApiResponse({ status: 304, description: 'Not modified (If-None-Match matched).' })
  @ApiNotFoundResponse({
    type: ErrorResponseDto,
    description: 'No such record, the record has no image in this role, or the image was released.',
  })
  async image(
    @UuidParam('id') id: string,
    @Param('role') role: string,
    @Principal() principal: ApiPrincipal,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const ref = await this.records.imageRef(id, imageRole(role));
    await this.audit.record({
      actor: principal.actor,
      action: 'record.image.read',
      subjectType: 'recognition-record',
      subjectId: id,
      details: { role, sha256: ref.sha256 },
    });
    await this.images.send(req, res, ref);
  }

  @Get(':id/feature')
  @RequireRole('biometric-reader')
  @ApiOperation({ operationId: 'getRecordFeature', summary: "The record's 512-d feature vector (biometric-reader; audited)." })
  @ApiOkResponse({ type: FeatureVectorDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  async feature(@UuidParam('id') id: string, @Principal() principal: ApiPrincipal): Promise<FeatureVectorDto> {
    const values = await this.records.feature(id);
    await this.audit.record({ actor: principal.actor, action: 'record.feature.read', subjectType: 'recognition-record', subjectId: id });
    return { recordId: id, dimensions: values.length, values };
  }
}
