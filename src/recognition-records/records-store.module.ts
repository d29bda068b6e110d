import { Module } from '@nestjs/common';
import { RecordsStore } from './records-store.service';

/** RecordsStore on its own, so the identities module can use it without importing RecognitionRecordsModule (which imports identities). */
@Module({
  providers: [RecordsStore],
  exports: [RecordsStore],
})
export class RecordsStoreModule {}
