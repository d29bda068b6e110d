import { Controller, HttpCode, Post } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Principal, RequireRole } from '../auth/auth.decorators';
import type { ApiPrincipal } from '../auth/roles';
import { ErrorResponseDto } from '../common/error-response.dto';
import { UuidParam } from '../common/uuid-param';
import { ErasureReportDto } from './dto/erasure-report.dto';
import { ErasureService } from './erasure.service';

@ApiTags('identities')
@Controller('identities')
export class ErasureController {
  constructor(private readonly erasure: ErasureService) {}

  @Post(':id/erasure')
  @HttpCode(200)
  @RequireRole('admin')
  @ApiOperation({
    operationId: 'eraseIdentity',
    summary: "Erase an identity's biometric data (admin)",
    description:
      "Removes the images, feature vectors and landmarks of the identity's records, its face library and pending face-library events, everywhere; images still used by another identity are kept. Records stay (without biometrics). Each batch of records raises identity.biometrics-erased (their ids), on which every instance's face index drops their vectors and rewrites its snapshot files without them, within seconds. Audited.",
  })
  @ApiOkResponse({ type: ErasureReportDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  async erase(@UuidParam('id') id: string, @Principal() principal: ApiPrincipal): Promise<ErasureReportDto> {
    return ErasureReportDto.from(await this.erasure.eraseIdentity(id, principal.actor));
  }
}
