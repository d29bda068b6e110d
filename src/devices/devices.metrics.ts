import { Injectable, OnModuleInit } from '@nestjs/common';
import { maskLicenseKey } from '../logging/redact';
import { MetricsService } from '../metrics/metrics.service';
import { DevicesService } from './devices.service';

/**
 * Exports when each box last pushed, read from the boxes table at scrape time: the same figure on every
 * instance (do not sum it). Only the most recently seen METRICS_MAX_BOX_LABELS boxes are exported, so keys
 * registered in open mode cannot grow the series without bound.
 */
@Injectable()
export class DevicesMetrics implements OnModuleInit {
  constructor(
    private readonly metrics: MetricsService,
    private readonly devices: DevicesService,
  ) {}

  onModuleInit(): void {
    const devices = this.devices;
    const limit = this.metrics.boxLabelLimit;
    this.metrics.gauge({
      name: 'rh_box_last_seen_timestamp_seconds',
      help: 'When each box last pushed a record (server clock, from the database; the most recently seen boxes only).',
      labelNames: ['box'],
      async collect() {
        this.reset();
        for (const b of await devices.lastSeenBoxes(limit)) this.set({ box: maskLicenseKey(b.licenseKey) }, b.lastSeenAt / 1000);
      },
    });
  }
}
