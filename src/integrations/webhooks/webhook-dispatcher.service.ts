import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import * as os from 'node:os';
import { AppConfig } from '../../config/app-config.service';
import { UnitOfWork } from '../../database/unit-of-work';
import { OutboxRelay } from '../../events/outbox-relay.service';
import { backgroundScope } from '../../logging/background-scope';
import { WebhookAddressRefused } from './webhook-networks';
import { webhookHeaders } from './webhook-signature';
import { WebhookTargetGuard } from './webhook-target-guard';

interface ClaimedDelivery {
  id: string;
  subscription_id: string;
  payload: string;
  attempts: number | string;
}

interface Outcome {
  statusCode: number | null;
  error: string | null;
  succeeded: boolean;
  startedAt: number;
  durationMs: number;
}

/**
 * Sends pending webhook deliveries. Only the head of each subscription's queue (its oldest pending
 * event) can be claimed, and only once every earlier event was relayed (so its delivery row exists), so a
 * subscription's events arrive in order, also across instance death, and the next waits until the
 * previous one succeeded or was abandoned after WEBHOOK_MAX_ATTEMPTS. Heads of different subscriptions
 * are sent concurrently and nothing here runs inside ingest, so a slow or failing receiver delays only
 * its own queue. Claims are leases (FOR UPDATE SKIP LOCKED on PostgreSQL) shared by all instances.
 *
 * Idle cost: a pass first checks with one indexed read that some delivery is due, and the relay's progress wakes the
 * dispatcher only while deliveries are known to wait, so ingest with no webhook traffic adds nothing here.
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(WebhookDispatcher.name);
  /** Passes run in the start-up context, not that of the request that kicked them (log request ids). */
  private readonly background = backgroundScope(WebhookDispatcher.name);
  readonly instanceId = `wh:${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`.slice(0, 64);
  private readonly inFlight = new Map<string, Promise<void>>();
  private timer?: NodeJS.Timeout;
  private chain: Promise<void> = Promise.resolve();
  private passQueued = false;
  private stopped = false;
  /** Deliveries may be waiting (queued here, found by the last pass, or being sent): the relay's progress may free them. */
  private backlog = true;

  constructor(
    private readonly uow: UnitOfWork,
    private readonly config: AppConfig,
    private readonly relay: OutboxRelay,
    private readonly guard: WebhookTargetGuard,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.get('WEBHOOK_DISPATCH_ENABLED')) return;
    // Deliveries held back behind an unrelayed event (see claim) may go as soon as the relay moves on.
    this.relay.onProcessed(() => {
      if (this.backlog) this.kick();
    });
    this.timer = setInterval(() => this.kick(), this.config.get('WEBHOOK_POLL_INTERVAL_MS'));
    this.timer.unref();
    this.kick();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.chain;
    await Promise.allSettled([...this.inFlight.values()]);
  }

  /** Look for due deliveries soon (new ones were queued, or a send finished). */
  kick(): void {
    this.backlog = true;
    if (this.stopped || !this.config.get('WEBHOOK_DISPATCH_ENABLED') || this.passQueued) return;
    this.passQueued = true;
    this.chain = this.chain.then(
      this.background(() => {
        this.passQueued = false;
        return this.pass();
      }),
    );
  }

  private async pass(): Promise<void> {
    try {
      const free = this.config.get('WEBHOOK_CONCURRENCY') - this.inFlight.size;
      if (free <= 0 || this.stopped) return;
      if (!(await this.anythingDue())) {
        this.backlog = this.inFlight.size > 0;
        return;
      }
      const claimed = await this.claim(free);
      if (claimed.length === 0) return;
      const targets = await this.targets(claimed.map((c) => c.subscription_id));
      for (const c of claimed) {
        const target = targets.get(c.subscription_id);
        if (!target) continue;
        const task = this.send(c, target.url, target.secret)
          .catch((e) => this.logger.error(`webhook delivery ${c.id} failed to record: ${(e as Error).message}`))
          .finally(() => {
            this.inFlight.delete(c.id);
            this.kick();
          });
        this.inFlight.set(c.id, task);
      }
    } catch (e) {
      this.logger.error(`webhook dispatch pass failed: ${(e as Error).message}`);
    }
  }

  /** One indexed read: is any pending delivery due and unclaimed? */
  private async anythingDue(): Promise<boolean> {
    const d = this.uow.dialect;
    const now = Date.now();
    const rows: unknown[] = await this.uow.dataSource.query(
      `SELECT 1 AS due FROM webhook_deliveries
       WHERE status = 'pending' AND next_attempt_at <= ${d.p(1)} AND (claimed_until IS NULL OR claimed_until < ${d.p(2)})
       LIMIT 1`,
      [now, now],
    );
    return rows.length > 0;
  }

  private async claim(limit: number): Promise<ClaimedDelivery[]> {
    const d = this.uow.dialect;
    const now = Date.now();
    // The lease outlives the request timeout, so no other instance sends the same attempt meanwhile.
    const leaseUntil = now + 2 * this.config.get('WEBHOOK_TIMEOUT_MS') + 5000;
    const enabled = d.bool(true);
    const lock = d.kind === 'postgres' ? 'FOR UPDATE OF w SKIP LOCKED' : '';
    // Delivery rows are made by the relay, so an event that no relay has handled yet (claimed by an instance that
    // then died, until its lease runs out) has none: sending a later event now would overtake it. Nothing after
    // the oldest such event is sent.
    const horizon = (await this.relay.oldestUnrelayedId()) ?? Number.MAX_SAFE_INTEGER;
    const sql = `UPDATE webhook_deliveries SET claimed_by = ${d.p(1)}, claimed_until = ${d.p(2)}
       WHERE id IN (
         SELECT w.id FROM webhook_deliveries w
         JOIN webhook_subscriptions s ON s.id = w.subscription_id
         WHERE w.status = 'pending' AND w.next_attempt_at <= ${d.p(3)}
           AND (w.claimed_until IS NULL OR w.claimed_until < ${d.p(4)})
           AND s.enabled = ${enabled}
           AND w.event_id <= ${d.p(6)}
           AND NOT EXISTS (
             SELECT 1 FROM webhook_deliveries e
             WHERE e.subscription_id = w.subscription_id AND e.status = 'pending' AND e.event_id < w.event_id)
         ORDER BY w.next_attempt_at LIMIT ${d.p(5)} ${lock})
       RETURNING id, subscription_id, payload, attempts`;
    const params = [this.instanceId, leaseUntil, now, now, limit, horizon];
    // PostgreSQL: one autocommitted statement (one round trip); SQLite: every write joins the UnitOfWork queue.
    const result: unknown =
      d.kind === 'postgres' ? await this.uow.dataSource.query(sql, params) : await this.uow.run((m) => m.query(sql, params));
    return d.returnedRows<ClaimedDelivery>(result);
  }

  private async targets(ids: string[]): Promise<Map<string, { url: string; secret: string }>> {
    const d = this.uow.dialect;
    const unique = [...new Set(ids)];
    const rows: { id: string; url: string; secret: string }[] = await this.uow.dataSource.query(
      `SELECT id, url, secret FROM webhook_subscriptions WHERE id IN (${d.params(1, unique.length)})`,
      unique,
    );
    return new Map(rows.map((r) => [r.id, r]));
  }

  private async send(c: ClaimedDelivery, url: string, secret: string): Promise<void> {
    const outcome = await this.post(c, url, secret);
    await this.record(c, outcome);
  }

  /**
   * One POST: no redirects followed (only the configured URL), bounded by WEBHOOK_TIMEOUT_MS, and connected only
   * to addresses WEBHOOK_ALLOWED_NETWORKS allows (node:http rather than fetch, for the lookup hook that checks
   * the very address the socket connects to).
   */
  private async post(c: ClaimedDelivery, url: string, secret: string): Promise<Outcome> {
    const startedAt = Date.now();
    const timestamp = Math.floor(startedAt / 1000);
    const timeoutMs = this.config.get('WEBHOOK_TIMEOUT_MS');
    const done = (statusCode: number | null, error: string | null): Outcome => ({
      statusCode,
      error,
      succeeded: error === null,
      startedAt,
      durationMs: Date.now() - startedAt,
    });
    try {
      const target = new URL(url);
      const refused = this.guard.refusedLiteral(target);
      if (refused) return done(null, refused.message);
      const headers = {
        'content-type': 'application/json',
        'user-agent': 'RecognitionHub-Webhooks/1',
        ...webhookHeaders(secret, c.id, timestamp, c.payload),
      };
      const status = await postOnce(target, headers, c.payload, this.guard.lookup, timeoutMs);
      if (status >= 200 && status < 300) return done(status, null);
      return done(status, `receiver answered HTTP ${status}`);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const message =
        err.name === 'TimeoutError'
          ? `no answer within ${timeoutMs} ms`
          : err instanceof WebhookAddressRefused
            ? err.message
            : [err.message, err.code && !err.message.includes(err.code) ? err.code : null].filter(Boolean).join(': ');
      return done(null, message.slice(0, 1000));
    }
  }

  private async record(c: ClaimedDelivery, o: Outcome): Promise<void> {
    const d = this.uow.dialect;
    const attempt = Number(c.attempts) + 1;
    const now = Date.now();
    const abandon = !o.succeeded && attempt >= this.config.get('WEBHOOK_MAX_ATTEMPTS');
    const status = o.succeeded ? 'succeeded' : abandon ? 'failed' : 'pending';
    const delay = Math.min(
      this.config.get('WEBHOOK_MAX_BACKOFF_MS'),
      this.config.get('WEBHOOK_BACKOFF_BASE_MS') * 2 ** Math.min(attempt - 1, 30),
    );
    if (!o.succeeded) {
      this.logger.warn(
        `webhook delivery ${c.id} attempt ${attempt} failed (${o.error})${abandon ? '; abandoned' : `; retry in ${delay} ms`}`,
      );
    }
    await this.uow.run(async (m) => {
      await m.query(
        `INSERT INTO webhook_delivery_attempts (delivery_id, attempt, started_at, duration_ms, status_code, error, succeeded)
         VALUES (${d.params(1, 7)})`,
        [c.id, attempt, o.startedAt, o.durationMs, o.statusCode, o.error, d.kind === 'postgres' ? o.succeeded : o.succeeded ? 1 : 0],
      );
      await m.query(
        `UPDATE webhook_deliveries SET status = ${d.p(1)}, attempts = ${d.p(2)}, next_attempt_at = ${d.p(3)},
           last_status_code = ${d.p(4)}, last_error = ${d.p(5)}, completed_at = ${d.p(6)}, claimed_by = NULL, claimed_until = NULL
         WHERE id = ${d.p(7)}`,
        [status, attempt, status === 'pending' ? now + delay : now, o.statusCode, o.error, status === 'pending' ? null : now, c.id],
      );
    });
  }
}

/** Resolves with the status code once the answer's headers arrive; its body is drained and dropped. */
function postOnce(
  url: URL,
  headers: Record<string, string>,
  body: string,
  lookup: http.RequestOptions['lookup'],
  timeoutMs: number,
): Promise<number> {
  const signal = AbortSignal.timeout(timeoutMs);
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? https : http).request(
      url,
      { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, lookup, signal },
      (res) => {
        res.on('error', () => undefined); // cut off by the timeout while draining: the status is already known
        res.resume(); // frees the connection for the next delivery
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', (e) => reject(signal.aborted ? (signal.reason as Error) : e));
    req.end(body);
  });
}
