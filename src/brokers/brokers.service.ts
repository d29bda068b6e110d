import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap, OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import * as os from 'node:os';
import { Counter } from 'prom-client';
import { AppConfig } from '../config/app-config.service';
import { OutboxReader } from '../events/outbox-reader.service';
import { OutboxRelay } from '../events/outbox-relay.service';
import { ReadinessChecks } from '../health/readiness.service';
import { EventFeedService } from '../integrations/event-feed.service';
import { MetricsService } from '../metrics/metrics.service';
import { AmqpPublisher } from './amqp-publisher';
import { BrokerName } from './broker-publisher';
import { BrokerStream, StreamSettings } from './broker-stream';
import { BrokerStreamsStore } from './broker-streams.store';
import { RecordsStore } from '../recognition-records/records-store.service';
import { MqttPublisher } from './mqtt-publisher';

const BATCH_SIZE = 200;
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * Domain events on message brokers: one stream per configured broker (MQTT_URL, AMQP_URL), each with its own
 * outbox cursor. Readiness shows each broker's state without depending on it; /metrics counts what was published,
 * what failed, and how far each stream is behind the outbox.
 */
@Injectable()
export class BrokersService implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Brokers');
  readonly instanceId = `br:${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`.slice(0, 64);
  private readonly streams = new Map<BrokerName, BrokerStream>();
  private published!: Counter<'broker'>;
  private failed!: Counter<'broker'>;

  constructor(
    private readonly config: AppConfig,
    private readonly store: BrokerStreamsStore,
    private readonly feed: EventFeedService,
    private readonly outbox: OutboxReader,
    private readonly relay: OutboxRelay,
    private readonly metrics: MetricsService,
    private readonly readiness: ReadinessChecks,
    private readonly records: RecordsStore,
  ) {}

  onModuleInit(): void {
    this.registerMetrics();
    const settings: StreamSettings = {
      instanceId: this.instanceId,
      pollIntervalMs: this.config.get('BROKER_POLL_INTERVAL_MS'),
      leaseMs: this.config.get('BROKER_LEASE_MS'),
      publishTimeoutMs: this.config.get('BROKER_PUBLISH_TIMEOUT_MS'),
      batchSize: BATCH_SIZE,
      gapGraceMs: this.config.get('EVENT_STREAM_GAP_GRACE_MS'),
    };
    const reconnectMaxMs = this.config.get('BROKER_RECONNECT_MAX_MS');
    const counters = { published: this.published, failed: this.failed };
    const mqttUrl = this.config.get('MQTT_URL');
    if (mqttUrl) {
      const publisher = new MqttPublisher({
        url: mqttUrl,
        reconnectMaxMs,
        connectTimeoutMs: CONNECT_TIMEOUT_MS,
        topicPrefix: this.config.get('MQTT_TOPIC_PREFIX'),
        newestAtCameras: (ids) => this.records.newestAtMediaDevices(ids),
        onConnected: () => this.streams.get('mqtt')?.kick(),
      });
      this.streams.set('mqtt', new BrokerStream('mqtt', publisher, this.store, this.feed, settings, counters));
    }
    const amqpUrl = this.config.get('AMQP_URL');
    if (amqpUrl) {
      const publisher = new AmqpPublisher({
        url: amqpUrl,
        reconnectMaxMs,
        connectTimeoutMs: CONNECT_TIMEOUT_MS,
        exchange: this.config.get('AMQP_EXCHANGE'),
        onConnected: () => this.streams.get('amqp')?.kick(),
      });
      this.streams.set('amqp', new BrokerStream('amqp', publisher, this.store, this.feed, settings, counters));
    }
    for (const [name, stream] of this.streams) this.readiness.inform(name, () => ({ state: stream.state }));
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.streams.size === 0) return;
    await this.store.releaseForeign(this.instanceId);
    const newest = await this.outbox.maxId();
    for (const [name, stream] of this.streams) {
      await this.store.ensure(name, newest);
      stream.start();
    }
    // Events relayed on this instance are committed: publish them now rather than at the next poll.
    this.relay.onProcessed(() => {
      for (const s of this.streams.values()) s.kick();
    });
    this.logger.log(`publishing domain events to ${[...this.streams.keys()].join(' and ')}`);
  }

  /** After the graceful shutdown drained the outbox relay: publish what it relayed, then disconnect. */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all([...this.streams.values()].map((s) => s.stop()));
  }

  private registerMetrics(): void {
    const registers = [this.metrics.registry];
    this.published = new Counter({
      name: 'rh_broker_published_total',
      help: 'Domain events the broker confirmed (PUBACK / publisher confirm), by broker; counted by the publishing instance.',
      labelNames: ['broker'],
      registers,
    });
    this.failed = new Counter({
      name: 'rh_broker_failed_total',
      help: 'Domain events whose publication failed or went unconfirmed (they are sent again), by broker.',
      labelNames: ['broker'],
      registers,
    });
    const streams = this.streams;
    this.metrics.gauge({
      name: 'rh_broker_connected',
      help: '1 when this instance holds the broker stream and is connected, by broker.',
      labelNames: ['broker'],
      collect() {
        for (const [name, s] of streams) this.set({ broker: name }, s.state === 'connected' ? 1 : 0);
      },
    });
    // One database read per scrape feeds both lag gauges (prom-client collects them concurrently).
    let snapshot: Promise<Map<string, { events: number; seconds: number }>> | null = null;
    const read = () => (snapshot ??= this.lag().finally(() => (snapshot = null)));
    for (const [name, help, pick] of [
      ['rh_broker_lag_events', 'Outbox ids after what the broker confirmed (events waiting, counting gaps), by broker.', 'events'],
      [
        'rh_broker_lag_seconds',
        'Age of the oldest domain event the broker has not confirmed yet (0 when caught up), by broker.',
        'seconds',
      ],
    ] as const) {
      this.metrics.gauge({
        name,
        help,
        labelNames: ['broker'],
        async collect() {
          const lag = await read();
          this.reset();
          for (const [broker, l] of lag) this.set({ broker }, l[pick]);
        },
      });
    }
  }

  /** How far each configured stream is behind the outbox (the same on every instance: the cursor is shared). */
  private async lag(): Promise<Map<string, { events: number; seconds: number }>> {
    const out = new Map<string, { events: number; seconds: number }>();
    if (this.streams.size === 0) return out;
    const cursors = await this.store.cursors();
    const newest = await this.outbox.maxId();
    for (const name of this.streams.keys()) {
      const cursor = cursors.get(name);
      if (cursor === undefined) continue;
      const [next] = await this.outbox.readAfter({ after: cursor, limit: 1 });
      out.set(name, { events: Math.max(0, newest - cursor), seconds: next ? Math.max(0, Date.now() - next.createdAt) / 1000 : 0 });
    }
    return out;
  }
}
