import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireRole } from '../auth/auth.decorators';
import { AuditService } from './audit.service';
import { AuditEntryDto, AuditPageDto, AuditQueryDto } from './dto/audit.dto';

@ApiTags('audit')
@Controller('audit-log')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @RequireRole('admin')
  @ApiOperation({ operationId: 'listAuditEntries', summary: 'Audit trail, newest first (admin).' })
  @ApiOkResponse({ type: AuditPageDto })
  async list(@Query() q: AuditQueryDto): Promise<AuditPageDto> {
    const page = await this.audit.list(q);
    return { items: page.items.map(AuditEntryDto.from), nextCursor: page.nextCursor };
  }
}
