import { Injectable } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { UnitOfWork } from '../database/unit-of-work';
import { OutboxRelay } from '../events/outbox-relay.service';
import { maskLicenseKey } from '../logging/redact';

/** What ingestion reports about one stored or deduplicated event. */
export interface IngestOutcome {
  licenseKey: string;
  stored: boolean;
  defective: boolean;
}

/**
 * Prometheus metrics. A registry per application (not prom-client's global one), so several apps in
 * one process (tests) do not clash. Boxes are labelled by their masked license key.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  private readonly ingested = new Counter({
    name: 'rh_records_ingested_total',
    help: 'Recognition records stored, by box.',
    labelNames: ['box'],
    registers: [this.registry],
  });
  private readonly duplicates = new Counter({
    name: 'rh_records_duplicate_total',
    help: 'Recognition records answered 200 as already stored (box retries), by box.',
    labelNames: ['box'],
    registers: [this.registry],
  });
  private readonly defective = new Counter({
    name: 'rh_records_defective_total',
    help: 'Recognition records stored with at least one recorded defect, by box.',
    labelNames: ['box'],
    registers: [this.registry],
  });
  private readonly refused = new Counter({
    name: 'rh_records_refused_total',
    help: 'Box pushes answered with anything but 200 (the box will retry them), by box and status.',
    labelNames: ['box', 'status'],
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'rh_ingest_duration_seconds',
    help: 'Time from receiving a box push to answering it, by status.',
    labelNames: ['status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  /** Box labels by license key (see boxLabel). */
  private readonly boxLabels = new Map<string, string>();
  private readonly outboxPending = new Gauge({
    name: 'rh_outbox_pending_events',
    help: 'Domain events not yet relayed to listeners.',
    registers: [this.registry],
  });
  private readonly outboxFailing = new Gauge({
    name: 'rh_outbox_failing_events',
    help: 'Unrelayed domain events whose listeners failed at least once (retrying with backoff).',
    registers: [this.registry],
  });
  private readonly outboxLag = new Gauge({
    name: 'rh_outbox_lag_seconds',
    help: 'Age of the oldest unrelayed domain event.',
    registers: [this.registry],
  });
  private readonly boxLastSeen = new Gauge({
    name: 'rh_box_last_seen_timestamp_seconds',
    help: 'When each box last pushed a record (server clock, from the database).',
    labelNames: ['box'],
    registers: [this.registry],
  });

  constructor(
    private readonly uow: UnitOfWork,
    private readonly relay: OutboxRelay,
  ) {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Called by ingestion once its transaction committed. */
  observeIngest(outcomes: IngestOutcome[]): void {
    for (const o of outcomes) {
      const box = this.boxLabel(o.licenseKey);
      if (!o.stored) this.duplicates.inc({ box });
      else {
        this.ingested.inc({ box });
        if (o.defective) this.defective.inc({ box });
      }
    }
  }

  /** maskLicenseKey hashes; a box pushes thousands of times, so its label is kept (bounded: boxes are few). */
  private boxLabel(licenseKey: string): string {
    let label = this.boxLabels.get(licenseKey);
    if (label === undefined) {
      if (this.boxLabels.size >= 10_000) this.boxLabels.clear();
      label = maskLicenseKey(licenseKey);
      this.boxLabels.set(licenseKey, label);
    }
    return label;
  }

  /**
   * Express middleware for the box route, installed before the body parser so that refusals by the
   * parser (413, bad JSON) and by guards are counted too.
   */
  boxEdgeMiddleware(): (req: Request, res: Response, next: NextFunction) => void {
    return (req, res, next) => {
      const end = this.latency.startTimer();
      res.once('finish', () => {
        const status = String(res.statusCode);
        end({ status });
        if (res.statusCode !== 200) this.refused.inc({ box: boxOf(req.body), status });
      });
      next();
    };
  }

  /** The exposition text, with database-backed gauges refreshed first. */
  async scrape(): Promise<string> {
    const lag = await this.relay.lag();
    this.outboxPending.set(lag.pending);
    this.outboxFailing.set(lag.failing);
    this.outboxLag.set(lag.oldestAgeMs / 1000);
    const boxes: { license_key: string; last_seen_at: number | string }[] = await this.uow.dataSource.query(
      'SELECT license_key, last_seen_at FROM boxes',
    );
    this.boxLastSeen.reset();
    for (const b of boxes) this.boxLastSeen.set({ box: maskLicenseKey(b.license_key) }, Number(b.last_seen_at) / 1000);
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** The box key of a (parsed) push, in either firmware's naming; "unknown" when it cannot be read. */
function boxOf(body: unknown): string {
  const first = Array.isArray(body) ? body[0] : body;
  if (!first || typeof first !== 'object') return 'unknown';
  const r = first as Record<string, unknown>;
  const key = typeof r.mq_license_key === 'string' ? r.mq_license_key : typeof r.dev_sno === 'string' ? r.dev_sno : null;
  return maskLicenseKey(key);
}
