import { Body, Controller, Get, HttpCode, Patch, Post, Query, Req, Res } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AuditService } from '../audit/audit.service';
import { Principal, RequireRole } from '../auth/auth.decorators';
import type { ApiPrincipal } from '../auth/roles';
import { ErrorResponseDto } from '../common/error-response.dto';
import { UuidParam } from '../common/uuid-param';
import { IMAGE_RESPONSE } from '../images/dto/image-response.dto';
import { ImagesService } from '../images/images.service';
import {
  FaceFeatureDto,
  IdentityDetailDto,
  IdentityListQueryDto,
  IdentityPageDto,
  MergeIdentityDto,
  UpdateIdentityDto,
} from './dto/identity.dto';
import { IdentitiesQueryService } from './identities-query.service';
import { IdentityAdminService } from './identity-admin.service';

@ApiTags('identities')
@Controller('identities')
export class IdentitiesController {
  constructor(
    private readonly identities: IdentitiesQueryService,
    private readonly admin: IdentityAdminService,
    private readonly images: ImagesService,
    private readonly audit: AuditService,
  ) {}

  @Get()
  @ApiOperation({
    operationId: 'listIdentities',
    summary: 'Identities, most recently seen first; search by identity_id or name, filter by user_type.',
  })
  @ApiOkResponse({ type: IdentityPageDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto })
  list(@Query() q: IdentityListQueryDto): Promise<IdentityPageDto> {
    const { limit, cursor, ...filter } = q;
    return this.identities.list(filter, limit, cursor);
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getIdentity', summary: 'One identity with its face library (current and history) and latest records.' })
  @ApiOkResponse({ type: IdentityDetailDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  get(@UuidParam('id') id: string): Promise<IdentityDetailDto> {
    return this.identities.get(id);
  }

  @Patch(':id')
  @RequireRole('admin')
  @ApiOperation({
    operationId: 'updateIdentity',
    summary: 'Change name or user_type, e.g. promote a stranger to visitor or blacklist someone (admin; audited).',
  })
  @ApiOkResponse({ type: IdentityDetailDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  async update(
    @UuidParam('id') id: string,
    @Body() body: UpdateIdentityDto,
    @Principal() principal: ApiPrincipal,
  ): Promise<IdentityDetailDto> {
    await this.admin.update(id, { name: body.name, userType: body.userType }, principal.actor);
    return this.identities.get(id);
  }

  @Post(':id/merge-into')
  @HttpCode(200)
  @RequireRole('admin')
  @ApiOperation({
    operationId: 'mergeIdentity',
    summary:
      'Merge this identity into targetId (admin; audited): records and faces move, this identity is removed, identity.merged is emitted.',
  })
  @ApiOkResponse({ type: IdentityDetailDto, description: 'The target after the merge.' })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  async merge(
    @UuidParam('id') id: string,
    @Body() body: MergeIdentityDto,
    @Principal() principal: ApiPrincipal,
  ): Promise<IdentityDetailDto> {
    await this.admin.merge(id, body.targetId, principal.actor);
    return this.identities.get(body.targetId);
  }

  @Get(':id/faces/:faceId/image')
  @RequireRole('biometric-reader')
  @ApiOperation({
    operationId: 'getFaceImage',
    summary: 'A face library image (biometric-reader; audited). ETag is the sha256; 304 on If-None-Match.',
  })
  @ApiOkResponse(IMAGE_RESPONSE)
  @ApiResponse({ status: 304, description: 'Not modified.' })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  async faceImage(
    @UuidParam('id') id: string,
    @UuidParam('faceId') faceId: string,
    @Principal() principal: ApiPrincipal,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const ref = await this.identities.faceImage(id, faceId);
    await this.audit.record({
      actor: principal.actor,
      action: 'face.image.read',
      subjectType: 'face',
      subjectId: faceId,
      details: { identityId: id, sha256: ref.sha256 },
    });
    await this.images.send(req, res, ref);
  }

  @Get(':id/faces/:faceId/feature')
  @RequireRole('biometric-reader')
  @ApiOperation({ operationId: 'getFaceFeature', summary: 'A face library feature vector (biometric-reader; audited).' })
  @ApiOkResponse({ type: FaceFeatureDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  async faceFeature(
    @UuidParam('id') id: string,
    @UuidParam('faceId') faceId: string,
    @Principal() principal: ApiPrincipal,
  ): Promise<FaceFeatureDto> {
    const values = await this.identities.faceFeature(id, faceId);
    await this.audit.record({
      actor: principal.actor,
      action: 'face.feature.read',
      subjectType: 'face',
      subjectId: faceId,
      details: { identityId: id },
    });
    return { faceId, dimensions: values.length, values };
  }
}
