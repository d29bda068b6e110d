import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { AuditModule } from '../audit/audit.module';
import { ImagesModule } from '../images/images.module';
import { ErasureController } from './erasure.controller';
import { ErasureService } from './erasure.service';
import { ImageReleaseService } from './image-release.service';
import { RetentionScheduler } from './retention.scheduler';
import { RetentionService } from './retention.service';
import { StoragePurgeService } from './storage-purge.service';

@Module({
  imports: [ScheduleModule.forRoot(), AuditModule, ImagesModule],
  controllers: [ErasureController],
  providers: [ImageReleaseService, RetentionService, ErasureService, RetentionScheduler, StoragePurgeService],
  exports: [RetentionService, ErasureService],
})
export class RetentionModule {}
