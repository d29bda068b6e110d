import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuditService } from '../audit/audit.service';
import { AuditEntryDto, AuditPageDto, AuditQueryDto } from '../audit/dto/audit.dto';
import { RequireRole } from './auth.decorators';

/**
 * The audit trail for admins. Served by the auth module, which decides who may read it, so that the audit module
 * (which auth uses to record key changes) depends on nothing but the database.
 */
@ApiTags('audit')
@Controller('audit-log')
export class AuditLogController {
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
