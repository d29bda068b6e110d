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
