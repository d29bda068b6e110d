import { Logger } from '@nestjs/common';
import type { Counter } from 'prom-client';
import type { EventFeedService, FeedEvent } from '../integrations/event-feed.service';
import { backgroundScope } from '../logging/background-scope';
import { BrokerName, BrokerPublisher, withTimeout } from './broker-publisher';
import type { BrokerStreamsStore } from './broker-streams.store';

export type StreamState = 'standby' | 'connecting' | 'connected' | 'disconnected';

export interface StreamSettings {
  instanceId: string;
  pollIntervalMs: number;
  leaseMs: number;
  publishTimeoutMs: number;
  batchSize: number;
  /** How long a missing outbox id (a transaction still committing) holds the stream up. */
  gapGraceMs: number;
}

/**
 * One broker's stream of the outbox: reads events after its own cursor in id order, publishes them, and moves
 * the cursor only after the broker confirmed them, so delivery is at least once and in order, and a broker
 * that is down holds up only its own stream (which resumes where it stopped, after a restart too). Only the
 * instance holding the stream's lease connects and publishes.
 *
 * Outbox ids are allocated at insert but visible at commit, so on PostgreSQL id 11 can be seen before id 10: the
 * stream stops at a missing id until it appears, or until the row after it is EVENT_STREAM_GAP_GRACE_MS old
 * (a rolled-back transaction or a purged row leaves a gap that never fills).
 */
export class BrokerStream {
  private readonly logger = new Logger('Brokers');
  private readonly background = backgroundScope('BrokerStream');
  private chain: Promise<void> = Promise.resolve();
  private kickQueued = false;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private holding = false;
  private cursor: number | null = null;
  /** When the lease is renewed next (it runs until a full BROKER_LEASE_MS after the last renewal). */
  private renewAt = 0;
  private gap: { id: number; since: number } | null = null;

  constructor(
    readonly name: BrokerName,
    private readonly publisher: BrokerPublisher,
    private readonly store: BrokerStreamsStore,
    private readonly feed: EventFeedService,
    private readonly settings: StreamSettings,
    private readonly counters: { published: Counter<'broker'>; failed: Counter<'broker'> },
  ) {}

  get state(): StreamState {
    if (!this.holding) return 'standby';
    const s = this.publisher.state;
    return s === 'idle' ? 'connecting' : s;
  }

  /** Newest event id the broker confirmed, as this instance last saw it (null before the first pass). */
  get confirmedUpTo(): number | null {
    return this.cursor;
  }

  start(): void {
    this.timer = setInterval(() => this.kick(), this.settings.pollIntervalMs);
    this.timer.unref();
    this.kick();
  }

  /** Look for new events soon (events were relayed, or the connection came up). */
  kick(): void {
    if (this.stopped || this.kickQueued) return;
    this.kickQueued = true;
    this.chain = this.chain.then(
      this.background(() => {
        this.kickQueued = false;
        return this.pass();
      }),
    );
  }

  /** Finish the batch in hand, close the connection (MQTT says offline) and give the stream to another instance. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    // Publish what the shutdown's outbox drain just relayed, for a bounded time (the next holder sends the rest).
    if (this.holding && this.publisher.state === 'connected') {
      this.kick();
      await withTimeout(this.chain, this.settings.publishTimeoutMs, 'final pass').catch(() => undefined);
    }
    this.stopped = true;
    await this.chain;
    await this.publisher.stop(true);
    if (this.holding) {
      this.holding = false;
      await this.store.release(this.name, this.settings.instanceId).catch(() => undefined);
    }
  }

  private async pass(): Promise<void> {
    try {
      const { instanceId, leaseMs } = this.settings;
      // The lease is renewed a third of the way through rather than on every pass: on SQLite each write is an
      // fsync that ingest waits behind, and the relay wakes this stream after every batch it relays.
      if (!this.holding || Date.now() >= this.renewAt) {
        const cursor = await this.store.acquire(this.name, instanceId, leaseMs);
        if (cursor === null) {
          if (this.holding) await this.standDown('another instance took over');
          return;
        }
        this.renewAt = Date.now() + leaseMs / 3;
        if (!this.holding || this.cursor !== cursor) this.gap = null;
        this.cursor = cursor;
        if (!this.holding) {
          this.holding = true;
          this.publisher.start();
        }
      }
      while (!this.stopped && this.publisher.state === 'connected' && this.cursor !== null) {
        const rows = await this.feed.read({ after: this.cursor, limit: this.settings.batchSize });
        const ready = this.inOrder(this.cursor, rows);
        if (ready.length === 0) return;
        try {
          await this.publisher.publish(ready, this.settings.publishTimeoutMs);
        } catch {
          // The publisher logs the connection trouble and reconnects; the batch is sent again from the cursor.
          this.counters.failed.inc({ broker: this.name }, ready.length);
          return;
        }
        this.counters.published.inc({ broker: this.name }, ready.length);
        const last = ready[ready.length - 1].id;
        if (!(await this.store.advance(this.name, instanceId, last, leaseMs))) {
          await this.standDown('lease lost');
          return;
        }
        this.renewAt = Date.now() + leaseMs / 3;
        this.cursor = last;
        if (ready.length < rows.length || rows.length < this.settings.batchSize) return;
      }
    } catch (e) {
      this.logger.warn(`${this.name} broker stream pass failed: ${(e as Error).message}`);
    }
  }

  private async standDown(why: string): Promise<void> {
    this.logger.log(`${this.name} broker stream: ${why}; standing by`);
    this.holding = false;
    await this.publisher.stop(false);
  }

  /** The leading events that may go now: contiguous ids after the cursor, or past a gap that will not fill. */
  private inOrder(cursor: number, rows: FeedEvent[]): FeedEvent[] {
    const out: FeedEvent[] = [];
    let expected = cursor + 1;
    for (const row of rows) {
      if (row.id !== expected && !this.gapClosed(expected, row)) break;
      this.gap = null;
      out.push(row);
      expected = row.id + 1;
    }
    return out;
  }

  private gapClosed(missing: number, next: FeedEvent): boolean {
    const now = Date.now();
    const grace = this.settings.gapGraceMs;
    // A row written well before now: whatever took the missing id before it has long committed or rolled back.
    if (now - Date.parse(next.envelope.timestamp) >= grace) return true;
    if (this.gap?.id !== missing) this.gap = { id: missing, since: now };
    return now - this.gap.since >= grace;
  }
}
