/** A media device (camera, gate, photo terminal) as a push describes it. */
export interface MediaDeviceReport {
  deviceId: string;
  type: string | null;
  ip: string | null;
  name: string | null;
  url: string | null;
}

/** How a record names its box in the consumer API. */
export interface BoxSummary {
  id: string;
  name: string | null;
  licenseKey: string;
}

/** How a record names its media device in the consumer API. */
export interface MediaDeviceSummary {
  id: string;
  deviceId: string;
  name: string | null;
  type: string | null;
}

/**
 * Record counts per box or media device, for the boxes API. The records module provides it (RecordsStoreModule):
 * records reference devices, so devices must not import records; the composition root hands the provider in.
 */
export abstract class DeviceRecordCounts {
  /** How many records each of these boxes (boxId) or media devices (mediaDeviceId) has; absent means 0. */
  abstract countsBy(column: 'boxId' | 'mediaDeviceId', ids: string[]): Promise<Map<string, number>>;
}
