import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager, In } from 'typeorm';
import { chunks } from '../../common/chunks';
import { UnitOfWork } from '../../database/unit-of-work';
import { withoutImageReferences } from '../../events/domain-events';
import { WebhookDelivery } from './entities/webhook-delivery.entity';
import { EventFeedService } from '../event-feed.service';
import { WebhookDispatcher } from './webhook-dispatcher.service';

export interface SubscriptionBacklog {
  subscriptionId: string;
  pending: number;
  retrying: number;
  failed: number;
  oldestPendingAgeMs: number;
}

/**
 * Turns a relayed domain event into one delivery row per subscription that wants it. Idempotent
 * (unique subscription + event), as the relay delivers at least once. Sending is the dispatcher's job,
 * so this adds one small write to the relay and nothing to ingest.
 */
@Injectable()
export class WebhookDeliveriesService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly feed: EventFeedService,
    private readonly dispatcher: WebhookDispatcher,
  ) {}

  /** Per subscription: deliveries waiting, those retrying after a failure, abandoned ones, and the oldest wait. */
  async backlog(): Promise<SubscriptionBacklog[]> {
    const rows: {
      subscription_id: string;
      pending: number | string;
      retrying: number | string | null;
      failed: number | string | null;
      oldest: number | string | null;
    }[] = await this.uow.dataSource.query(
      `SELECT subscription_id,
                SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END) AS pending,
                SUM(CASE WHEN status = 'pending' AND attempts > 0 THEN 1 ELSE 0 END) AS retrying,
                SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed,
                MIN(CASE WHEN status = 'pending' THEN created_at END) AS oldest
         FROM webhook_deliveries WHERE status <> 'succeeded' GROUP BY subscription_id`,
    );
    const now = Date.now();
    return rows.map((r) => ({
      subscriptionId: r.subscription_id,
      pending: Number(r.pending),
      retrying: Number(r.retrying ?? 0),
      failed: Number(r.failed ?? 0),
      oldestPendingAgeMs: r.oldest === null ? 0 : Math.max(0, now - Number(r.oldest)),
    }));
  }

  /**
   * The deliveries of a batch of relayed events, one per subscription that wants each event: one read of the
   * subscriptions, one of the events, one transaction of inserts, whatever the batch size. Returns how many were
   * wanted (already existing ones included).
   */
  async enqueueBatch(events: { eventId: number; type: string }[]): Promise<number> {
    if (events.length === 0) return 0;
    const d = this.uow.dialect;
    const subs: { id: string; event_types: string; start_after_event_id: number | string }[] = await this.uow.dataSource.query(
      `SELECT id, event_types, start_after_event_id FROM webhook_subscriptions WHERE enabled = ${d.bool(true)}`,
    );
    if (subs.length === 0) return 0;
    const parsed = subs.map((s) => ({ id: s.id, types: JSON.parse(s.event_types) as string[], after: Number(s.start_after_event_id) }));
    const wanted = new Map<number, string[]>();
    for (const e of events) {
      const ids = parsed.filter((s) => e.eventId > s.after && (s.types.includes('*') || s.types.includes(e.type))).map((s) => s.id);
      if (ids.length > 0) wanted.set(e.eventId, ids);
    }
    if (wanted.size === 0) return 0;
    // Purged or erased before relay: nothing left to send.
    const found = await this.feed.many([...wanted.keys()]);
    const now = Date.now();
    const rows: unknown[][] = [];
    for (const event of found) {
      const body = JSON.stringify(event.envelope);
      for (const subscriptionId of wanted.get(event.id) ?? [])
        rows.push([randomUUID(), subscriptionId, event.id, event.type, body, now, now]);
    }
    if (rows.length === 0) return 0;
    await this.uow.run(async (m) => {
      for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
        const chunk = rows.slice(i, i + INSERT_CHUNK);
        const values = chunk.map((_, r) => {
          const p = (k: number) => d.p(r * 7 + k);
          return `(${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, 'pending', 0, ${p(6)}, ${p(7)})`;
        });
        await m.query(
          `INSERT INTO webhook_deliveries (id, subscription_id, event_id, event_type, payload, status, attempts, next_attempt_at, created_at)
           VALUES ${values.join(', ')}
           ON CONFLICT (subscription_id, event_id) DO NOTHING`,
          chunk.flat(),
        );
      }
    });
    this.dispatcher.kick();
    return rows.length;
  }

  /** Retention: deletes the delivery logs of these outbox events (their attempts cascade), in the caller's transaction. */
  async removeOfEvents(manager: EntityManager, eventIds: number[]): Promise<number> {
    let removed = 0;
    for (const ids of chunks(eventIds))
      removed += (await manager.getRepository(WebhookDelivery).delete({ eventId: In(ids) })).affected ?? 0;
    return removed;
  }

  /**
   * Erasure: removes image links and hashes from the stored bodies of these events' deliveries, in the caller's
   * transaction. A delivery still pending goes out with the scrubbed body (same webhook-id, so receivers still
   * dedupe). Returns how many bodies changed.
   */
  async scrubImageReferences(manager: EntityManager, eventIds: number[]): Promise<number> {
    const repo = manager.getRepository(WebhookDelivery);
    let scrubbed = 0;
    for (const ids of chunks(eventIds)) {
      for (const row of await repo.find({ select: { id: true, payload: true }, where: { eventId: In(ids) } })) {
        const payload = withoutImageReferences(JSON.parse(row.payload));
        if (!payload) continue;
        await repo.update({ id: row.id }, { payload: JSON.stringify(payload) });
        scrubbed++;
      }
    }
    return scrubbed;
  }
}

/** Delivery rows per INSERT statement (7 parameters each, well under both databases' parameter limits). */
const INSERT_CHUNK = 200;
