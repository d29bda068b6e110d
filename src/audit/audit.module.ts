import { Module } from '@nestjs/common';
import { AuditService } from './audit.service';

/**
 * The audit log: modules that record audited changes import it and call AuditService.recordIn in their transaction.
 * GET /audit-log is served by the auth module (src/auth/audit-log.controller.ts).
 */
@Module({
  providers: [AuditService],
  exports: [AuditService],
})
export class AuditModule {}
