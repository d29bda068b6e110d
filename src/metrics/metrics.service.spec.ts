import type { AppConfig } from '../config/app-config.service';
import type { OutboxRelay } from '../events/outbox-relay.service';
import { maskLicenseKey } from '../logging/redact';
import { MetricsService, OTHER_BOX } from './metrics.service';

describe('MetricsService box labels', () => {
  const relay = { lag: async () => ({ pending: 0, failing: 0, oldestAgeMs: 0 }) } as unknown as OutboxRelay;
  const config = (max: number) =>
    ({ get: (name: string) => (name === 'METRICS_MAX_BOX_LABELS' ? max : undefined) }) as unknown as AppConfig;

  it('gives the first METRICS_MAX_BOX_LABELS boxes their own label and the rest "other"', async () => {
    const metrics = new MetricsService(relay, config(2));
    const keys = ['BOX-1', 'BOX-2', 'BOX-3', 'BOX-4', 'BOX-1'];
    metrics.observeIngest(keys.map((licenseKey) => ({ licenseKey, stored: true, defective: false })));
    const text = await metrics.scrape();
    const series = text.split('\n').filter((l) => l.startsWith('rh_records_ingested_total{'));
    expect(series.sort()).toEqual(
      [
        `rh_records_ingested_total{box="${maskLicenseKey('BOX-1')}"} 2`,
        `rh_records_ingested_total{box="${maskLicenseKey('BOX-2')}"} 1`,
        `rh_records_ingested_total{box="${OTHER_BOX}"} 2`,
      ].sort(),
    );
  });
});
