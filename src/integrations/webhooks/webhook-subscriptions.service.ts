import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AuditService } from '../../audit/audit.service';
import { decodeCursor, encodeCursor } from '../../common/cursor';
import { UnitOfWork } from '../../database/unit-of-work';
import { EventFeedService } from '../event-feed.service';
import {
  CreatedWebhookSubscriptionDto,
  CreateWebhookSubscriptionDto,
  UpdateWebhookSubscriptionDto,
  WebhookDeliveryDetailDto,
  WebhookDeliveryDto,
  WebhookDeliveryPageDto,
  WebhookSubscriptionDto,
} from './dto/webhook.dto';
import { WebhookDeliveryAttempt } from './entities/webhook-delivery-attempt.entity';
import { WebhookDelivery, WebhookDeliveryStatus } from './entities/webhook-delivery.entity';
import { WebhookSubscription } from './entities/webhook-subscription.entity';
import { deliveryNotFound, subscriptionNotFound } from './webhook-errors';
import { generateSecret } from './webhook-signature';
import { WebhookTargetGuard } from './webhook-target-guard';

/** Subscriptions and the delivery log, as the admin REST API shows them (the secret only at creation). */
@Injectable()
export class WebhookSubscriptionsService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly feed: EventFeedService,
    private readonly guard: WebhookTargetGuard,
    private readonly audit: AuditService,
  ) {}

  private get subscriptions() {
    return this.uow.dataSource.getRepository(WebhookSubscription);
  }

  // Changes are audited in their own transaction: the subscription and its audit row commit together.

  async create(input: CreateWebhookSubscriptionDto, actor: string): Promise<CreatedWebhookSubscriptionDto> {
    await this.guard.checkUrl(input.url);
    const now = Date.now();
    const sub: WebhookSubscription = {
      id: randomUUID(),
      url: input.url,
      eventTypes: [...new Set(input.eventTypes)],
      secret: input.secret ?? generateSecret(),
      description: input.description ?? null,
      enabled: input.enabled ?? true,
      // Starts with the events written from now on, not the whole retained history.
      startAfterEventId: await this.feed.maxId(),
      createdAt: now,
      updatedAt: now,
    };
    await this.uow.run(async (m) => {
      await m.getRepository(WebhookSubscription).insert(sub);
      await this.audit.recordIn(m, {
        actor,
        action: 'webhook.subscription.created',
        subjectType: 'webhook-subscription',
        subjectId: sub.id,
        details: { url: sub.url, eventTypes: sub.eventTypes },
      });
    });
    return { ...toSubscriptionDto(sub), secret: sub.secret };
  }

  async list(): Promise<WebhookSubscriptionDto[]> {
    return (await this.subscriptions.find({ order: { createdAt: 'ASC' } })).map(toSubscriptionDto);
  }

  async get(id: string): Promise<WebhookSubscriptionDto> {
    return toSubscriptionDto(await this.find(id));
  }

  async update(id: string, input: UpdateWebhookSubscriptionDto, actor: string): Promise<WebhookSubscriptionDto> {
    const sub = await this.find(id);
    if (input.url !== undefined) await this.guard.checkUrl(input.url);
    if (input.url !== undefined) sub.url = input.url;
    if (input.eventTypes !== undefined) sub.eventTypes = [...new Set(input.eventTypes)];
    if (input.description !== undefined) sub.description = input.description;
    if (input.enabled !== undefined) sub.enabled = input.enabled;
    sub.updatedAt = Date.now();
    await this.uow.run(async (m) => {
      await m.getRepository(WebhookSubscription).save(sub);
      await this.audit.recordIn(m, {
        actor,
        action: 'webhook.subscription.updated',
        subjectType: 'webhook-subscription',
        subjectId: id,
        details: { ...input },
      });
    });
    return toSubscriptionDto(sub);
  }

  /** Removes the subscription with its deliveries and attempts. */
  async remove(id: string, actor: string): Promise<void> {
    await this.find(id);
    await this.uow.run(async (m) => {
      await m.query(
        `DELETE FROM webhook_delivery_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries WHERE subscription_id = ${this.uow.dialect.p(1)})`,
        [id],
      );
      await m.getRepository(WebhookDelivery).delete({ subscriptionId: id });
      await m.getRepository(WebhookSubscription).delete({ id });
      await this.audit.recordIn(m, { actor, action: 'webhook.subscription.deleted', subjectType: 'webhook-subscription', subjectId: id });
    });
  }

  /** Newest first; keyset pagination on the event id. */
  async deliveries(
    subscriptionId: string,
    q: { status?: WebhookDeliveryStatus; limit?: number; cursor?: string },
  ): Promise<WebhookDeliveryPageDto> {
    await this.find(subscriptionId);
    const limit = q.limit ?? 50;
    const qb = this.uow.dataSource
      .getRepository(WebhookDelivery)
      .createQueryBuilder('d')
      .where('d.subscriptionId = :subscriptionId', { subscriptionId })
      .orderBy('d.eventId', 'DESC')
      .take(limit + 1);
    if (q.status) qb.andWhere('d.status = :status', { status: q.status });
    if (q.cursor) qb.andWhere('d.eventId < :before', { before: decodeCursor<{ e: number }>(q.cursor, { e: 'number' }).e });
    const rows = await qb.getMany();
    const page = rows.slice(0, limit);
    return {
      items: page.map(toDeliveryDto),
      nextCursor: rows.length > limit ? encodeCursor({ e: page[page.length - 1].eventId }) : null,
    };
  }

  async delivery(id: string): Promise<WebhookDeliveryDetailDto> {
    const d = await this.uow.dataSource.getRepository(WebhookDelivery).findOneBy({ id });
    if (!d) throw deliveryNotFound();
    const attempts = await this.uow.dataSource
      .getRepository(WebhookDeliveryAttempt)
      .find({ where: { deliveryId: id }, order: { attempt: 'ASC' } });
    return {
      ...toDeliveryDto(d),
      attemptLog: attempts.map((a) => ({
        attempt: a.attempt,
        startedAt: a.startedAt,
        durationMs: a.durationMs,
        statusCode: a.statusCode,
        error: a.error,
        succeeded: Boolean(a.succeeded),
      })),
    };
  }

  private async find(id: string): Promise<WebhookSubscription> {
    const sub = await this.subscriptions.findOneBy({ id });
    if (!sub) throw subscriptionNotFound();
    return sub;
  }
}

function toSubscriptionDto(s: WebhookSubscription): WebhookSubscriptionDto {
  return {
    id: s.id,
    url: s.url,
    eventTypes: s.eventTypes,
    description: s.description,
    enabled: Boolean(s.enabled),
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
  };
}

function toDeliveryDto(d: WebhookDelivery): WebhookDeliveryDto {
  return {
    id: d.id,
    subscriptionId: d.subscriptionId,
    eventId: String(d.eventId),
    eventType: d.eventType,
    status: d.status,
    attempts: d.attempts,
    nextAttemptAt: d.status === 'pending' ? d.nextAttemptAt : null,
    lastStatusCode: d.lastStatusCode,
    lastError: d.lastError,
    createdAt: d.createdAt,
    completedAt: d.completedAt,
  };
}
