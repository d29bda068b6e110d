import { Injectable, OnModuleDestroy } from '@nestjs/common';
import cluster from 'node:cluster';
import type { NextFunction, Request, Response } from 'express';
import { collectDefaultMetrics, Counter, Gauge, GaugeConfiguration, Histogram, Registry } from 'prom-client';
import { AppConfig } from '../config/app-config.service';
import { OutboxRelay } from '../events/outbox-relay.service';
import { maskLicenseKey } from '../logging/redact';
import { CLUSTER_METRICS, ClusterMetricsMessage } from './metrics.types';

/** Label of boxes past the METRICS_MAX_BOX_LABELS cap, and of pushes whose box the hub has not recognised. */
export const OTHER_BOX = 'other';
export const UNKNOWN_BOX = 'unknown';

/** What ingestion reports about one stored or deduplicated event. */
export interface IngestOutcome {
  licenseKey: string;
  stored: boolean;
  defective: boolean;
}

/**
 * Prometheus metrics. A registry per application (not prom-client's global one), so several apps in
 * one process (tests) do not clash. Boxes are labelled by their masked license key, and only boxes the hub
 * has registered or authenticated get a label of their own: a request body is never trusted to create a series.
 */
@Injectable()
export class MetricsService implements OnModuleDestroy {
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
  private readonly httpRequests = new Counter({
    name: 'rh_http_requests_total',
    help: 'REST API requests answered, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'],
    registers: [this.registry],
  });
  private readonly httpLatency = new Histogram({
    name: 'rh_http_request_duration_seconds',
    help: 'REST API request duration, by method and route pattern.',
    labelNames: ['method', 'route'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  /** Box labels by license key (see boxLabel); at most maxBoxLabels entries. */
  private readonly boxLabels = new Map<string, string>();
  private readonly maxBoxLabels: number;
  /** Box pushes whose box the hub recognised (registered or authenticated), by request. */
  private readonly pushBoxes = new WeakMap<Request, string>();
  private readonly outboxPending = new Gauge({
    name: 'rh_outbox_pending_events',
    help: 'Domain events not yet relayed to listeners.',
    // Read from the shared database: the same on every worker, so a cluster sum takes one value.
    aggregator: 'max',
    registers: [this.registry],
  });
  private readonly outboxFailing = new Gauge({
    name: 'rh_outbox_failing_events',
    help: 'Unrelayed domain events whose listeners failed at least once (retrying with backoff).',
    // Read from the shared database: the same on every worker, so a cluster sum takes one value.
    aggregator: 'max',
    registers: [this.registry],
  });
  private readonly outboxLag = new Gauge({
    name: 'rh_outbox_lag_seconds',
    help: 'Age of the oldest unrelayed domain event.',
    // Read from the shared database: the same on every worker, so a cluster sum takes one value.
    aggregator: 'max',
    registers: [this.registry],
  });

  constructor(
    private readonly relay: OutboxRelay,
    config: AppConfig,
  ) {
    this.maxBoxLabels = config.get('METRICS_MAX_BOX_LABELS');
    collectDefaultMetrics({ register: this.registry });
    if (cluster.isWorker) process.on('message', this.onClusterMessage);
  }

  onModuleDestroy(): void {
    process.off('message', this.onClusterMessage);
  }

  /** Most box series one metric may have (METRICS_MAX_BOX_LABELS); modules exporting per-box gauges honour it. */
  get boxLabelLimit(): number {
    return this.maxBoxLabels;
  }

  /**
   * A gauge on this registry whose `collect` reads the owning module's own state at scrape time
   * (database-backed gauges, open connections), so modules export metrics without this one reading their tables.
   */
  gauge<T extends string>(configuration: Omit<GaugeConfiguration<T>, 'registers'>): Gauge<T> {
    // Such gauges mostly read the shared database, the same on every cluster worker: one value, not the sum.
    return new Gauge<T>({ aggregator: 'max', ...configuration, registers: [this.registry] });
  }

  /** Names the box of a push once the hub knows it (a registered box, or one that passed access checks). */
  attributePush(req: Request, licenseKey: string): void {
    this.pushBoxes.set(req, licenseKey);
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

  /**
   * The label of a recognised box: its masked key (maskLicenseKey hashes, so it is kept), for the first
   * METRICS_MAX_BOX_LABELS boxes of this process; later ones share "other", so the series count stays bounded
   * even in open mode, where any new key registers a box.
   */
  private boxLabel(licenseKey: string): string {
    const label = this.boxLabels.get(licenseKey);
    if (label !== undefined) return label;
    if (this.boxLabels.size >= this.maxBoxLabels) return OTHER_BOX;
    const masked = maskLicenseKey(licenseKey);
    this.boxLabels.set(licenseKey, masked);
    return masked;
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
        if (res.statusCode === 200) return;
        // The body names a box, but anyone can write any key there: only a recognised box gets its own label.
        const key = this.pushBoxes.get(req);
        this.refused.inc({ box: key === undefined ? UNKNOWN_BOX : this.boxLabel(key), status });
      });
      next();
    };
  }

  /**
   * Express middleware for the REST API (every route but the box callbacks): requests and latency by the
   * matched route pattern (`/records/:id`), never the raw path, so ids and probes of unknown paths add no series.
   */
  httpMiddleware(): (req: Request, res: Response, next: NextFunction) => void {
    return (req, res, next) => {
      if (req.path.startsWith('/box-callbacks/')) return next();
      const started = process.hrtime.bigint();
      res.once('finish', () => {
        const method = HTTP_METHODS.has(req.method) ? req.method : 'OTHER';
        const routePath = (req.route as { path?: unknown } | undefined)?.path;
        // Nest answers unknown paths from a catch-all route ("{/*splat}"): those are "unmatched" too.
        const route = typeof routePath === 'string' && !routePath.includes('*') ? `${req.baseUrl}${routePath}` : 'unmatched';
        this.httpRequests.inc({ method, route, status: String(res.statusCode) });
        this.httpLatency.observe({ method, route }, Number(process.hrtime.bigint() - started) / 1e9);
      });
      next();
    };
  }

  /**
   * The exposition text; database-backed gauges (here and in other modules) are read as it is made. In a cluster
   * worker (WEB_CONCURRENCY > 1) it covers every worker: the primary collects each worker's registry and sums them
   * (src/cluster.ts); if that fails, this worker's own metrics are served.
   */
  async scrape(): Promise<string> {
    if (cluster.isWorker && process.connected) {
      try {
        return await this.clusterScrape();
      } catch {
        // The primary is gone or busy: this worker's metrics are still worth answering with.
      }
    }
    await this.readGauges();
    return this.registry.metrics();
  }

  private async readGauges(): Promise<void> {
    const lag = await this.relay.lag();
    this.outboxPending.set(lag.pending);
    this.outboxFailing.set(lag.failing);
    this.outboxLag.set(lag.oldestAgeMs / 1000);
  }

  private nextRequest = 0;
  private readonly waiting = new Map<number, (m: ClusterMetricsMessage) => void>();

  private clusterScrape(): Promise<string> {
    const id = this.nextRequest++;
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error('no answer from the cluster primary'));
      }, 8000);
      this.waiting.set(id, (m) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        if (m.kind === CLUSTER_METRICS.response && m.text !== undefined) resolve(m.text);
        else reject(new Error((m.kind === CLUSTER_METRICS.response && m.error) || 'no metrics'));
      });
      process.send!({ kind: CLUSTER_METRICS.request, id } satisfies ClusterMetricsMessage);
    });
  }

  /** Cluster worker side: the primary collecting every worker's registry, or answering this worker's request. */
  private readonly onClusterMessage = (m: ClusterMetricsMessage): void => {
    if (m?.kind === CLUSTER_METRICS.response) this.waiting.get(m.id)?.(m);
    if (m?.kind !== CLUSTER_METRICS.collect) return;
    const answer = (part: Omit<Extract<ClusterMetricsMessage, { kind: 'rh:metrics:part' }>, 'kind' | 'id'>) => {
      if (process.connected) process.send!({ kind: CLUSTER_METRICS.part, id: m.id, ...part } satisfies ClusterMetricsMessage);
    };
    this.readGauges()
      .then(() => this.registry.getMetricsAsJSON())
      .then((metrics) => answer({ metrics }))
      .catch((e: Error) => answer({ error: e.message }));
  };

  get contentType(): string {
    return this.registry.contentType;
  }
}

const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
