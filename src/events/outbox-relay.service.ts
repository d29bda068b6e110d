import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { EventEmitter2, EventEmitterReadinessWatcher } from '@nestjs/event-emitter';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import * as os from 'node:os';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config.service';
import { UnitOfWork } from '../database/unit-of-work';
import { DomainEvent, DomainEventMap, DomainEventType, rehydrateEvent } from './domain-events';
import { backgroundScope } from '../logging/background-scope';

/**
 * Least time between the starts of two kicked passes. Under load every ingest commit kicks, and passes run back to
 * back would each carry a commit or two; each costs about a dozen statements whatever its size (claim, mark, persons'
 * transaction, alert rules, webhook subscriptions, face index...), each a round trip on PostgreSQL. Spaced, a pass
 * carries what a quarter second committed. The first pass after a quiet spell starts at once.
 */
const KICK_SPACING_MS = 250;

/** A claimed event as batch handlers see it (see onBatch). */
export interface RelayBatchItem {
  eventId: number;
  type: string;
}

interface ClaimedRow {
  id: number | string;
  type: string;
  payload: string;
  created_at: number | string;
  attempts: number;
}

/**
 * Moves committed outbox rows to in-process listeners. Rows are claimed with a lease
 * (FOR UPDATE SKIP LOCKED on PostgreSQL), so several instances share the work, and a row whose
 * instance died is taken over when its lease runs out. A row is marked processed only after
 * every listener succeeded; a failure is retried with exponential backoff and kept in
 * attempts/last_error. Delivery is at least once: listeners must be idempotent.
 *
 * Cost to the ingest path: a pass reads and marks a whole batch at once (on PostgreSQL each as one autocommitted
 * statement, one round trip), so under load every commit's kick joins the pass already queued and the relay costs
 * a few statements per batch, not per event. Batch handlers (onBatch) let consumers such as webhooks do their
 * per-event work once per batch. The timer only finds work committed by other instances or due for retry; when it
 * fires with nothing due it costs one indexed read.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(OutboxRelay.name);
  /** Passes run in the start-up context, not that of the request that kicked them (log request ids). */
  private readonly background = backgroundScope(OutboxRelay.name);
  readonly instanceId = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`.slice(0, 64);
  private timer?: NodeJS.Timeout;
  /** Passes run one after another; drain() and kick() queue onto this chain. */
  private chain: Promise<void> = Promise.resolve();
  private kickQueued = false;
  /** When the last kicked pass started (see KICK_SPACING_MS). */
  private lastKickedPass = 0;
  private readonly processedObservers: (() => void)[] = [];
  private readonly batchHandlers: ((items: RelayBatchItem[]) => Promise<void>)[] = [];
  private readonly eventsListeners: { type: string; handler: (events: DomainEvent[]) => Promise<void> }[] = [];
  private stopped = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly uow: UnitOfWork,
    private readonly emitter: EventEmitter2,
    private readonly listenersReady: EventEmitterReadinessWatcher,
    private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.get('OUTBOX_RELAY_ENABLED')) return;
    // SQLite is embedded: only this process uses the file, so claims left by a killed predecessor are
    // stale and can be released now instead of waiting out their lease.
    if (this.uow.dialect.kind === 'sqlite') await this.releaseForeignClaims();
    this.timer = setInterval(() => this.kick(true), this.config.get('OUTBOX_POLL_INTERVAL_MS'));
    this.timer.unref();
    this.kick();
  }

  /** Runs before Nest removes the event listeners and closes the database: finish the row in hand first. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  /** Stop polling, release unstarted claims and wait for the row in hand. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.chain;
  }

  /**
   * Ask for a relay pass soon (after a commit that wrote events). Kicks while a pass is queued join it. `poll` is
   * the timer's: it first checks with a read that anything is due, so an idle instance never writes.
   */
  kick(poll = false): void {
    if (this.stopped || !this.config.get('OUTBOX_RELAY_ENABLED') || this.kickQueued) return;
    this.kickQueued = true;
    this.chain = this.chain.then(
      this.background(async () => {
        // Kicks that come meanwhile join this pass: under load it carries a few commits' events, not one's.
        const wait = this.lastKickedPass + KICK_SPACING_MS - Date.now();
        if (wait > 0 && !this.stopped) await new Promise((resolve) => setTimeout(resolve, wait));
        this.kickQueued = false;
        this.lastKickedPass = Date.now();
        return this.pass(poll);
      }),
    );
  }

  /**
   * Relay until nothing is due, after any pass already under way; resolves when done.
   * Works with OUTBOX_RELAY_ENABLED=false too (tests, operational tools).
   */
  drain(): Promise<void> {
    this.chain = this.chain.then(() => this.pass());
    return this.chain;
  }

  private async pass(probeFirst = false): Promise<void> {
    try {
      if (probeFirst && !(await this.anythingDue())) return;
      // Listeners are subscribed in another module's bootstrap hook; relaying before that would mark
      // events processed that nobody heard.
      await this.listenersReady.waitUntilReady();
      while (!this.stopped) {
        const rows = await this.claim();
        if (rows.length === 0) return;
        // Stop well before the lease ends, so no other instance takes over a row while we deliver it.
        const deliverUntil = Date.now() + this.config.get('OUTBOX_LEASE_MS') / 2;
        let delivered = 0;
        const processed: number[] = [];
        const batchError = await this.runBatchHandlers(rows);
        const events = new Map<number, DomainEvent | null>();
        const failed = batchError ? new Map<number, unknown>() : await this.runEventsListeners(rows, events);
        // At least one event per pass even when the batch listeners used up the time: a batch they can never finish
        // within half a lease would otherwise be claimed, released and claimed again without end.
        while (delivered < rows.length && !this.stopped && (delivered === 0 || Date.now() < deliverUntil)) {
          const row = rows[delivered++];
          if (batchError) await this.fail(row, batchError);
          else if (failed.has(Number(row.id))) await this.fail(row, failed.get(Number(row.id)));
          else if (await this.deliver(row, events)) processed.push(Number(row.id));
        }
        // One commit for the batch rather than one per event: on SQLite every commit is an fsync that stalls
        // ingest. A crash before it only means redelivery, which listeners already tolerate.
        await this.markProcessed(processed);
        if (processed.length > 0) for (const notify of this.processedObservers) notify();
        if (delivered < rows.length) await this.release(rows.slice(delivered).map((r) => Number(r.id)));
        if (rows.length < this.config.get('OUTBOX_BATCH_SIZE')) return;
      }
    } catch (e) {
      this.logger.error(`outbox relay pass failed: ${(e as Error).message}`);
    }
  }

  private async claim(): Promise<ClaimedRow[]> {
    const d = this.uow.dialect;
    const now = Date.now();
    const leaseUntil = now + this.config.get('OUTBOX_LEASE_MS');
    const batch = this.config.get('OUTBOX_BATCH_SIZE');
    const result = await this.write(
      `UPDATE outbox_events SET claimed_by = ${d.p(1)}, claimed_until = ${d.p(2)}
       WHERE id IN (
         SELECT id FROM outbox_events
         WHERE processed_at IS NULL AND available_at <= ${d.p(3)}
           AND (claimed_until IS NULL OR claimed_until < ${d.p(4)})
         ORDER BY id LIMIT ${batch} ${d.skipLocked})
       RETURNING id, type, payload, created_at, attempts`,
      [this.instanceId, leaseUntil, now, now],
    );
    return d.returnedRows<ClaimedRow>(result).sort((a, b) => Number(a.id) - Number(b.id));
  }

  /**
   * Registers work done once per claimed batch, before its events go to their listeners (e.g. creating every webhook
   * delivery of the batch in one transaction). It must be idempotent, like a listener: a batch can be handed over
   * again. If it throws, every event of the batch counts as failed and is retried with backoff.
   */
  onBatch(handler: (items: RelayBatchItem[]) => Promise<void>): void {
    this.batchHandlers.push(handler);
  }

  private async runBatchHandlers(rows: ClaimedRow[]): Promise<unknown> {
    if (this.batchHandlers.length === 0) return null;
    const items = rows.map((r) => ({ eventId: Number(r.id), type: r.type }));
    try {
      for (const handler of this.batchHandlers) await handler(items);
      return null;
    } catch (e) {
      return e ?? new Error('batch handler failed');
    }
  }

  /**
   * Listens to a batch's events of one type at once, so that per-event work can share one transaction and one
   * read of what every event needs (persons' sightings, alert rules). Called before the events' @OnDomainEvent
   * listeners; an event is marked processed only when both succeeded. When the call fails, each of its events is
   * handed over again alone, so that only the events that fail by themselves are retried (with backoff). Like a
   * listener, it must be idempotent: delivery is at least once, and an event is heard again when it is retried.
   * Returns a function that removes the listener.
   */
  onEvents<T extends DomainEventType>(type: T, handler: (events: DomainEventMap[T][]) => Promise<void>): () => void {
    const listener = { type, handler: handler as (events: DomainEvent[]) => Promise<void> };
    this.eventsListeners.push(listener);
    return () => {
      const i = this.eventsListeners.indexOf(listener);
      if (i >= 0) this.eventsListeners.splice(i, 1);
    };
  }

  /** Runs the onEvents listeners; returns the events that failed (by row id). Rehydrated events are kept in `events`. */
  private async runEventsListeners(rows: ClaimedRow[], events: Map<number, DomainEvent | null>): Promise<Map<number, unknown>> {
    const failed = new Map<number, unknown>();
    for (const { type, handler } of this.eventsListeners) {
      const batch: { id: number; event: DomainEvent }[] = [];
      for (const row of rows) {
        if (row.type !== type) continue;
        const id = Number(row.id);
        if (failed.has(id)) continue;
        try {
          const event = this.rehydrate(row, events);
          if (event) batch.push({ id, event });
        } catch (e) {
          failed.set(id, e);
        }
      }
      if (batch.length === 0) continue;
      try {
        await handler(batch.map((b) => b.event));
      } catch (e) {
        if (batch.length === 1) failed.set(batch[0].id, e ?? new Error('listener failed'));
        else
          for (const b of batch) {
            try {
              await handler([b.event]);
            } catch (e1) {
              failed.set(b.id, e1 ?? new Error('listener failed'));
            }
          }
      }
    }
    return failed;
  }

  private rehydrate(row: ClaimedRow, events: Map<number, DomainEvent | null>): DomainEvent | null {
    const id = Number(row.id);
    if (events.has(id)) return events.get(id)!;
    const event = rehydrateEvent(row.type, JSON.parse(row.payload), { eventId: id, occurredAt: Number(row.created_at) });
    events.set(id, event);
    return event;
  }

  /** Whether a pass would find anything (a read, so idle polls never take SQLite's write lock or fsync). */
  private async anythingDue(): Promise<boolean> {
    const d = this.uow.dialect;
    const now = Date.now();
    const rows: unknown[] = await this.dataSource.query(
      `SELECT 1 AS due FROM outbox_events
       WHERE processed_at IS NULL AND available_at <= ${d.p(1)} AND (claimed_until IS NULL OR claimed_until < ${d.p(2)})
       LIMIT 1`,
      [now, now],
    );
    return rows.length > 0;
  }

  /**
   * One statement: on PostgreSQL autocommitted (one round trip instead of BEGIN, statement, COMMIT); on SQLite
   * through the UnitOfWork, whose queue every write must join (and which commits it with the ingest group).
   */
  private write(sql: string, params: unknown[]): Promise<unknown> {
    if (this.uow.dialect.kind === 'postgres') return this.dataSource.query(sql, params);
    return this.uow.run((m) => m.query(sql, params));
  }

  /** Called after a batch of events was marked processed (consumers that wait on the relay's progress). */
  onProcessed(observer: () => void): void {
    this.processedObservers.push(observer);
  }

  /**
   * Id of the oldest event no relay has handed to its listeners yet (never attempted, perhaps claimed by an
   * instance that died), or null. Consumers that must keep event order (webhooks) send nothing after it.
   */
  async oldestUnrelayedId(): Promise<number | null> {
    const rows: { id: number | string | null }[] = await this.dataSource.query(
      'SELECT MIN(id) AS id FROM outbox_events WHERE processed_at IS NULL AND attempts = 0',
    );
    return rows[0]?.id === null || rows[0]?.id === undefined ? null : Number(rows[0].id);
  }

  /** Marks delivered events processed. last_error stays: with attempts it tells that an event succeeded only after failures. */
  private async markProcessed(ids: number[]): Promise<void> {
    if (ids.length === 0) return;
    const d = this.uow.dialect;
    await this.write(
      `UPDATE outbox_events SET processed_at = ${d.p(1)}, claimed_by = NULL, claimed_until = NULL
       WHERE processed_at IS NULL AND id IN (${d.params(2, ids.length)})`,
      [Date.now(), ...ids],
    );
  }

  /** True when the listeners took the event (it is then marked processed with its batch). */
  private async deliver(row: ClaimedRow, events: Map<number, DomainEvent | null>): Promise<boolean> {
    const id = Number(row.id);
    try {
      const event = this.rehydrate(row, events);
      if (event) await this.emitter.emitAsync(row.type, event);
      else this.logger.warn(`outbox event ${id} has unknown type ${row.type}; marking processed`);
      return true;
    } catch (e) {
      await this.fail(row, e);
      return false;
    }
  }

  /** Schedules a retry of an event whose listeners (or its batch's handlers) failed. */
  private async fail(row: ClaimedRow, e: unknown): Promise<void> {
    const d = this.uow.dialect;
    const id = Number(row.id);
    const attempts = Number(row.attempts) + 1;
    const delay = Math.min(this.config.get('OUTBOX_MAX_BACKOFF_MS'), 500 * 2 ** Math.min(attempts, 20));
    const message = ((e as Error)?.message ?? String(e)).slice(0, 2000);
    this.logger.warn(`listener for ${row.type} (outbox ${id}) failed, attempt ${attempts}, retry in ${delay} ms: ${message}`);
    // Only while we still hold the claim: a row taken over after our lease ran out is not ours to reschedule.
    await this.write(
      `UPDATE outbox_events SET attempts = ${d.p(1)}, last_error = ${d.p(2)}, available_at = ${d.p(3)},
         claimed_by = NULL, claimed_until = NULL
       WHERE id = ${d.p(4)} AND claimed_by = ${d.p(5)} AND processed_at IS NULL`,
      [attempts, message, Date.now() + delay, id, this.instanceId],
    );
  }

  /** Give back claimed rows not delivered (stopping, or lease running short) so others need not wait. */
  private async release(ids: number[]): Promise<void> {
    const d = this.uow.dialect;
    await this.write(
      `UPDATE outbox_events SET claimed_by = NULL, claimed_until = NULL
       WHERE claimed_by = ${d.p(1)} AND processed_at IS NULL AND id IN (${d.params(2, ids.length)})`,
      [this.instanceId, ...ids],
    );
  }

  private async releaseForeignClaims(): Promise<void> {
    const d = this.uow.dialect;
    await this.uow.run((m) =>
      m.query(
        `UPDATE outbox_events SET claimed_by = NULL, claimed_until = NULL
         WHERE processed_at IS NULL AND claimed_by IS NOT NULL AND claimed_by <> ${d.p(1)}`,
        [this.instanceId],
      ),
    );
  }

  /** Events not yet relayed, and the age of the oldest (for health and metrics). */
  async lag(): Promise<{ pending: number; failing: number; oldestAgeMs: number }> {
    const rows: { pending: number | string; failing: number | string; oldest: number | string | null }[] = await this.dataSource.query(
      `SELECT COUNT(*) AS pending, SUM(CASE WHEN attempts > 0 THEN 1 ELSE 0 END) AS failing, MIN(created_at) AS oldest
       FROM outbox_events WHERE processed_at IS NULL`,
    );
    const r = rows[0];
    return {
      pending: Number(r.pending),
      failing: Number(r.failing ?? 0),
      oldestAgeMs: r.oldest === null ? 0 : Math.max(0, Date.now() - Number(r.oldest)),
    };
  }
}
