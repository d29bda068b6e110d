import { Module } from '@nestjs/common';
import { AuditService } from './audit.service';
import { AuditEntry } from './entities/audit-entry.entity';

/** This module's table, for a data source of its own (the api-key CLI); the app's list is src/entities.ts. */
export const AUDIT_ENTITIES = [AuditEntry];

/**
 * The audit log: modules that record audited changes import it and call AuditService.recordIn in their transaction.
 * GET /audit-log is served by the auth module (src/auth/audit-log.controller.ts).
 */
@Module({
  providers: [AuditService],
  exports: [AuditService],
})
export class AuditModule {}
