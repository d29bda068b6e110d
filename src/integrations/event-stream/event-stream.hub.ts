import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../../config/app-config.service';
import { EventFeedService, FeedEvent } from '../event-feed.service';
import { backgroundScope } from '../../logging/background-scope';

export interface HubSubscriber {
  push(event: FeedEvent): void;
}

const BATCH = 500;
/** Rows below the newest checked for a not-yet-committed id when a hub starts. */
const RECENT_WINDOW = 1000;

/**
 * Tails the outbox for every live stream on this instance: one indexed `id > cursor` read per poll,
 * fanned out to all connected clients, so events committed by any instance reach them. A domain event
 * relayed here kicks a read at once (low latency on the same instance).
 *
 * Outbox ids are allocated at insert but become visible at commit, so on PostgreSQL id 11 can be seen
 * before id 10. Skipping 10 would lose it for good (a client resuming after 11 would never get it), so
 * the tail stops at a missing id until it appears or EVENT_STREAM_GAP_GRACE_MS has passed (a rolled-back
 * transaction or a purged row leaves a gap that never fills).
 */
@Injectable()
export class EventStreamHub implements OnApplicationShutdown {
  private readonly logger = new Logger(EventStreamHub.name);
  /** Passes run in the start-up context, not that of the request that kicked them (log request ids). */
  private readonly background = backgroundScope(EventStreamHub.name);
  private readonly subscribers = new Set<HubSubscriber>();
  private cursor: number | null = null;
  private starting?: Promise<void>;
  private gap: { id: number; since: number } | null = null;
  private timer?: NodeJS.Timeout;
  private chain: Promise<void> = Promise.resolve();
  private pollQueued = false;

  constructor(
    private readonly feed: EventFeedService,
    private readonly config: AppConfig,
  ) {}

  /**
   * Adds a subscriber and returns the horizon: every event with a greater id will be pushed to it,
   * in id order; events up to the horizon are the caller's to replay from the outbox.
   */
  async attach(subscriber: HubSubscriber): Promise<number> {
    if (this.cursor === null) {
      this.starting ??= this.start().finally(() => (this.starting = undefined));
      await this.starting;
    }
    this.subscribers.add(subscriber);
    return this.cursor!;
  }

  detach(subscriber: HubSubscriber): void {
    this.subscribers.delete(subscriber);
    if (this.subscribers.size === 0 && !this.starting) this.stop();
  }

  get clients(): number {
    return this.subscribers.size;
  }

  /** Read new events soon (a domain event was just relayed on this instance). */
  kick(): void {
    if (this.cursor === null || this.pollQueued) return;
    this.pollQueued = true;
    this.chain = this.chain.then(
      this.background(() => {
        this.pollQueued = false;
        return this.poll();
      }),
    );
  }

  onApplicationShutdown(): void {
    this.subscribers.clear();
    this.stop();
  }

  private async start(): Promise<void> {
    const max = await this.feed.maxId();
    // "Now" is the newest row, unless a recent row sits after a missing id: that id may still be committing,
    // so start before it and let the gap rule decide (a resuming client replays only up to the cursor).
    const now = Date.now();
    const grace = this.config.get('EVENT_STREAM_GAP_GRACE_MS');
    let cursor = max;
    let gap: { id: number; since: number } | null = null;
    const recent = await this.feed.idsAfter(Math.max(0, max - RECENT_WINDOW));
    for (let i = 1; i < recent.length; i++) {
      const [a, b] = [recent[i - 1], recent[i]];
      if (b.id > a.id + 1 && now - b.createdAt < grace) {
        cursor = a.id;
        gap = { id: a.id + 1, since: b.createdAt };
        break;
      }
    }
    if (this.cursor === null) {
      this.cursor = cursor;
      this.gap = gap;
    }
    this.timer = setInterval(() => this.kick(), this.config.get('EVENT_STREAM_POLL_MS'));
    this.timer.unref();
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    // Idle: forget the position, a later client starts from "now" (or its Last-Event-ID).
    this.cursor = null;
    this.gap = null;
  }

  private async poll(): Promise<void> {
    try {
      for (;;) {
        if (this.cursor === null) return;
        const rows = await this.feed.read({ after: this.cursor, limit: BATCH });
        if (this.cursor === null) return;
        let held = false;
        for (const row of rows) {
          if (row.id !== this.cursor + 1 && !this.gapExpired(this.cursor + 1)) {
            held = true;
            break;
          }
          this.gap = null;
          this.cursor = row.id;
          for (const s of this.subscribers) s.push(row);
        }
        if (held || rows.length < BATCH) return;
      }
    } catch (e) {
      this.logger.warn(`event stream poll failed: ${(e as Error).message}`);
    }
  }

  private gapExpired(missingId: number): boolean {
    const now = Date.now();
    if (this.gap?.id !== missingId) this.gap = { id: missingId, since: now };
    return now - this.gap.since >= this.config.get('EVENT_STREAM_GAP_GRACE_MS');
  }
}
