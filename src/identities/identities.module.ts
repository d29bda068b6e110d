import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { EventsModule } from '../events/events.module';
import { ImagesModule } from '../images/images.module';
import { RecordsStoreModule } from '../recognition-records/records-store.module';
import { IdentitiesController } from './identities.controller';
import { IdentitiesQueryService } from './identities-query.service';
import { IdentityAdminService } from './identity-admin.service';
import { FaceLibraryListener } from './face-library.listener';
import { FaceLibraryService } from './face-library.service';
import { IdentitiesService } from './identities.service';

@Module({
  imports: [AuditModule, EventsModule, ImagesModule, RecordsStoreModule],
  controllers: [IdentitiesController],
  providers: [IdentitiesService, FaceLibraryService, FaceLibraryListener, IdentitiesQueryService, IdentityAdminService],
  exports: [IdentitiesService, FaceLibraryService],
})
export class IdentitiesModule {}
