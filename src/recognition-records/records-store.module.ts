import { Module } from '@nestjs/common';
import { DeviceRecordCounts } from '../devices/devices.types';
import { RecordsStore } from './records-store.service';

/**
 * RecordsStore on its own, so the identities module can use it without importing RecognitionRecordsModule (which
 * imports identities). It also answers the devices module's record counts (DeviceRecordCounts), handed to the boxes
 * API by the composition root, since devices must not import records.
 */
@Module({
  providers: [RecordsStore, { provide: DeviceRecordCounts, useExisting: RecordsStore }],
  exports: [RecordsStore, DeviceRecordCounts],
})
export class RecordsStoreModule {}
