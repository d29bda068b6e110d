import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import * as os from 'node:os';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config.service';
import { UnitOfWork } from '../database/unit-of-work';
import { rehydrateEvent } from './domain-events';

interface ClaimedRow {
  id: number | string;
  type: string;
  payload: string;
  created_at: number | string;
  attempts: number;
}

const BATCH = 100;

/**
 * Moves committed outbox rows to in-process listeners. Rows are claimed with a lease
 * (FOR UPDATE SKIP LOCKED on PostgreSQL), so several instances share the work, and a row whose
 * instance died is taken over when its lease runs out. A row is marked processed only after
 * every listener succeeded; a failure is retried with exponential backoff and kept in last_error.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OutboxRelay.name);
  readonly instanceId = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly uow: UnitOfWork,
    private readonly emitter: EventEmitter2,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.get('OUTBOX_RELAY_ENABLED')) return;
    this.timer = setInterval(() => this.kick(), this.config.get('OUTBOX_POLL_INTERVAL_MS'));
    this.timer.unref();
    this.kick();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  /** Stop polling and wait for the batch in hand to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** Ask for a relay pass soon (after a commit that wrote events). */
  kick(): void {
    if (this.stopped || !this.config.get('OUTBOX_RELAY_ENABLED')) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.again && !this.stopped) {
        this.again = false;
        this.kick();
      }
    });
  }

  /** Relay until nothing is due; resolves when done. Exposed for tests and shutdown. */
  async drain(): Promise<void> {
    try {
      for (;;) {
        const rows = await this.claim();
        if (rows.length === 0) return;
        for (const row of rows) await this.deliver(row);
        if (rows.length < BATCH || this.stopped) return;
      }
    } catch (e) {
      this.logger.error(`outbox relay pass failed: ${(e as Error).message}`);
    }
  }

  private async claim(): Promise<ClaimedRow[]> {
    const d = this.uow.dialect;
    const now = Date.now();
    const leaseUntil = now + this.config.get('OUTBOX_LEASE_MS');
    return this.uow.run(async (m) => {
      const result: unknown = await m.query(
        `UPDATE outbox_events SET claimed_by = ${d.p(1)}, claimed_until = ${d.p(2)}
         WHERE id IN (
           SELECT id FROM outbox_events
           WHERE processed_at IS NULL AND available_at <= ${d.p(3)}
             AND (claimed_until IS NULL OR claimed_until < ${d.p(4)})
           ORDER BY id LIMIT ${BATCH} ${d.skipLocked})
         RETURNING id, type, payload, created_at, attempts`,
        [this.instanceId, leaseUntil, now, now],
      );
      return d.returnedRows<ClaimedRow>(result).sort((a, b) => Number(a.id) - Number(b.id));
    });
  }

  private async deliver(row: ClaimedRow): Promise<void> {
    const d = this.uow.dialect;
    const id = Number(row.id);
    try {
      const event = rehydrateEvent(row.type, JSON.parse(row.payload), { eventId: id, occurredAt: Number(row.created_at) });
      if (event) await this.emitter.emitAsync(row.type, event);
      else this.logger.warn(`outbox event ${id} has unknown type ${row.type}; marking processed`);
      await this.uow.run((m) =>
        m.query(
          `UPDATE outbox_events SET processed_at = ${d.p(1)}, claimed_by = NULL, claimed_until = NULL, last_error = NULL
           WHERE id = ${d.p(2)}`,
          [Date.now(), id],
        ),
      );
    } catch (e) {
      const attempts = row.attempts + 1;
      const delay = Math.min(this.config.get('OUTBOX_MAX_BACKOFF_MS'), 500 * 2 ** Math.min(attempts, 20));
      const message = ((e as Error)?.message ?? String(e)).slice(0, 2000);
      this.logger.warn(`listener for ${row.type} (outbox ${id}) failed, attempt ${attempts}, retry in ${delay} ms: ${message}`);
      await this.uow.run((m) =>
        m.query(
          `UPDATE outbox_events SET attempts = ${d.p(1)}, last_error = ${d.p(2)}, available_at = ${d.p(3)},
             claimed_by = NULL, claimed_until = NULL
           WHERE id = ${d.p(4)}`,
          [attempts, message, Date.now() + delay, id],
        ),
      );
    }
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
