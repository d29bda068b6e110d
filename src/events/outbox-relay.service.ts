import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { EventEmitter2, EventEmitterReadinessWatcher } from '@nestjs/event-emitter';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import * as os from 'node:os';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config.service';
import { UnitOfWork } from '../database/unit-of-work';
import { rehydrateEvent } from './domain-events';
import { backgroundScope } from '../logging/background-scope';

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
  private readonly processedObservers: (() => void)[] = [];
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
    this.timer = setInterval(() => this.kick(), this.config.get('OUTBOX_POLL_INTERVAL_MS'));
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

  /** Ask for a relay pass soon (after a commit that wrote events). */
  kick(): void {
    if (this.stopped || !this.config.get('OUTBOX_RELAY_ENABLED') || this.kickQueued) return;
    this.kickQueued = true;
    this.chain = this.chain.then(
      this.background(() => {
        this.kickQueued = false;
        return this.pass();
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

  private async pass(): Promise<void> {
    try {
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
        while (delivered < rows.length && !this.stopped && Date.now() < deliverUntil) {
          const row = rows[delivered++];
          if (await this.deliver(row)) processed.push(Number(row.id));
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
    return this.uow.run(async (m) => {
      const result: unknown = await m.query(
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
    });
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
    await this.uow.run((m) =>
      m.query(
        `UPDATE outbox_events SET processed_at = ${d.p(1)}, claimed_by = NULL, claimed_until = NULL
         WHERE processed_at IS NULL AND id IN (${d.params(2, ids.length)})`,
        [Date.now(), ...ids],
      ),
    );
  }

  /** True when the listeners took the event (it is then marked processed with its batch). */
  private async deliver(row: ClaimedRow): Promise<boolean> {
    const d = this.uow.dialect;
    const id = Number(row.id);
    try {
      const event = rehydrateEvent(row.type, JSON.parse(row.payload), { eventId: id, occurredAt: Number(row.created_at) });
      if (event) await this.emitter.emitAsync(row.type, event);
      else this.logger.warn(`outbox event ${id} has unknown type ${row.type}; marking processed`);
      return true;
    } catch (e) {
      const attempts = Number(row.attempts) + 1;
      const delay = Math.min(this.config.get('OUTBOX_MAX_BACKOFF_MS'), 500 * 2 ** Math.min(attempts, 20));
      const message = ((e as Error)?.message ?? String(e)).slice(0, 2000);
      this.logger.warn(`listener for ${row.type} (outbox ${id}) failed, attempt ${attempts}, retry in ${delay} ms: ${message}`);
      // Only while we still hold the claim: a row taken over after our lease ran out is not ours to reschedule.
      await this.uow.run((m) =>
        m.query(
          `UPDATE outbox_events SET attempts = ${d.p(1)}, last_error = ${d.p(2)}, available_at = ${d.p(3)},
             claimed_by = NULL, claimed_until = NULL
           WHERE id = ${d.p(4)} AND claimed_by = ${d.p(5)} AND processed_at IS NULL`,
          [attempts, message, Date.now() + delay, id, this.instanceId],
        ),
      );
      return false;
    }
  }

  /** Give back claimed rows not delivered (stopping, or lease running short) so others need not wait. */
  private async release(ids: number[]): Promise<void> {
    const d = this.uow.dialect;
    await this.uow.run((m) =>
      m.query(
        `UPDATE outbox_events SET claimed_by = NULL, claimed_until = NULL
         WHERE claimed_by = ${d.p(1)} AND processed_at IS NULL AND id IN (${d.params(2, ids.length)})`,
        [this.instanceId, ...ids],
      ),
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
