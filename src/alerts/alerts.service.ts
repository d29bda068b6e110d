import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { decodeCursor, encodeCursor } from '../common/cursor';
import { AppConfig } from '../config/app-config.service';
import { UnitOfWork } from '../database/unit-of-work';
import { AlertAcknowledgedEvent, AlertRaisedEvent, AlertRef } from '../events/domain-events';
import { OutboxService } from '../events/outbox.service';
import { RecordAlertFacts, RecordsStore } from '../recognition-records/records-store.service';
import { alertNotFound, invalidRule } from './alert-errors';
import { cooldownKeyOf, matchesConditions } from './alert-matching';
import { AlertRuleConditions } from './alert-rule.types';
import { AlertRulesService, conditionsFrom } from './alert-rules.service';
import { AlertDto, AlertPageDto, AlertQueryDto } from './dto/alert.dto';
import { AlertRuleDryRunDto, AlertRuleDryRunResultDto, DryRunMatchDto } from './dto/alert-rule.dto';
import { Alert } from './entities/alert.entity';
import { AlertRule } from './entities/alert-rule.entity';
import { PERSON_LOOKUP, PersonLookup } from './person-lookup.types';

/** Dry-run bounds: the longest window and the most records read (the answer says when it stopped early). */
export const DRY_RUN_MAX_WINDOW_MS = 31 * 24 * 3600 * 1000;
export const DRY_RUN_MAX_RECORDS = 10_000;
export const DRY_RUN_MAX_ITEMS = 1_000;

function toAlertDto(a: Alert): AlertDto {
  return {
    id: a.id,
    ruleId: a.ruleId,
    ruleName: a.ruleName,
    severity: a.severity,
    state: a.state,
    recordId: a.recordId,
    boxId: a.boxId,
    mediaDeviceId: a.mediaDeviceId,
    personId: a.personId,
    identityId: a.identityId,
    identityExternalId: a.identityExternalId,
    identityName: a.identityName,
    score: a.score,
    occurredAt: a.occurredAt,
    raisedAt: a.createdAt,
    acknowledgedAt: a.acknowledgedAt,
    acknowledgedBy: a.acknowledgedBy,
    comment: a.acknowledgeComment,
  };
}

/**
 * Matches stored records against the enabled alert rules and raises alerts: one row per (rule, record), with an
 * `alert.raised` event in the same transaction. Also the operators' side: listing and acknowledging.
 */
@Injectable()
export class AlertsService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly records: RecordsStore,
    private readonly rules: AlertRulesService,
    private readonly outbox: OutboxService,
    private readonly audit: AuditService,
    private readonly config: AppConfig,
    @Inject(PERSON_LOOKUP) private readonly persons: PersonLookup,
  ) {}

  private get defaultZone(): string {
    return this.config.get('ALERT_TIME_ZONE');
  }

  /**
   * Raises the alerts a stored record matches; returns the new ones (none for a replay, or a record erased
   * meanwhile). Idempotent: the (rule, record) unique key makes a redelivered event change nothing, and only
   * rules created before the record was stored (`storedAt`, the event's outbox time) apply, so a redelivery after a
   * new rule was added raises nothing either.
   */
  async evaluateRecord(recordId: string, eventId: number | null, storedAt: number): Promise<AlertRef[]> {
    return (await this.evaluateRecords([{ recordId, eventId, storedAt }]))[0];
  }

  /**
   * evaluateRecord for a relay batch of records (the new alerts of each, in order). Most records match no rule:
   * that is found out with plain reads shared by the batch (the rules once, the records' facts in one query),
   * without a write transaction (and its commit) per record. A record that matches is read and matched again in
   * its own transaction, which raises its alerts.
   */
  async evaluateRecords(items: { recordId: string; eventId: number | null; storedAt: number }[]): Promise<AlertRef[][]> {
    const out: AlertRef[][] = items.map(() => []);
    const m = this.uow.dataSource.manager;
    const rules = await this.rules.enabledRules(m);
    const rulesAt = (storedAt: number) => rules.filter((rule) => rule.createdAt <= storedAt);
    const open = items.map((item, i) => ({ item, i })).filter(({ item }) => rulesAt(item.storedAt).length > 0);
    if (open.length === 0) return out;
    const facts = await this.records.alertFactsOf(
      m,
      open.map(({ item }) => item.recordId),
    );
    // Only person conditions read the person: without them (the default rules) a null one gives the same answer.
    const namesPersons = rules.some((rule) => !!rule.conditions.personIds?.length || !!rule.conditions.excludePersonIds?.length);
    const identityIds = [...facts.values()].map((r) => r.identityId).filter((id): id is string => id !== null);
    const persons = namesPersons ? await this.persons.personsOf(identityIds, m) : new Map<string, string>();
    for (const { item, i } of open) {
      const r = facts.get(item.recordId);
      if (!r) continue;
      const personId = namesPersons && r.identityId !== null ? (persons.get(r.identityId) ?? r.identityId) : null;
      if (!rulesAt(item.storedAt).some((rule) => matchesConditions(rule.conditions, r, personId, this.defaultZone))) continue;
      out[i] = await this.raiseFor(item.recordId, item.eventId, item.storedAt);
    }
    return out;
  }

  /** The alerts a record raises, read and matched in the alerts' transaction. */
  private async raiseFor(recordId: string, eventId: number | null, storedAt: number): Promise<AlertRef[]> {
    return this.uow.run(async (m) => {
      // Read in the alert's transaction, so an alert never outlives (or precedes) its record (the foreign key
      // cascades an erasure that commits meanwhile).
      const r = await this.records.alertFacts(m, recordId);
      if (!r) return [];
      const rules = (await this.rules.enabledRules(m)).filter((rule) => rule.createdAt <= storedAt);
      if (rules.length === 0) return [];
      const personId = await this.personOf(r.identityId, m);
      const out: AlertRef[] = [];
      for (const rule of rules) {
        if (!matchesConditions(rule.conditions, r, personId, this.defaultZone)) continue;
        const alert = await this.raise(m, rule, r, personId, eventId);
        if (alert) out.push(alert);
      }
      return out;
    });
  }

  private async personOf(identityId: string | null, m?: EntityManager): Promise<string | null> {
    if (identityId === null) return null;
    // An identity the persons module has not seen yet is its own person, whose id is the identity's.
    return (await this.persons.personsOf([identityId], m)).get(identityId) ?? identityId;
  }

  private async raise(
    m: EntityManager,
    rule: AlertRule,
    r: RecordAlertFacts,
    personId: string | null,
    eventId: number | null,
  ): Promise<AlertRef | null> {
    const d = this.uow.dialect;
    const cooldownKey = cooldownKeyOf(personId, r.identityId);
    if (rule.cooldownSeconds > 0) {
      // Two instances handling two records of one person at once would both see no earlier alert: on PostgreSQL
      // the second waits here until the first commits (SQLite runs one write transaction at a time anyway).
      if (d.kind === 'postgres')
        await m.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`alert-cooldown|${rule.id}|${cooldownKey}|${r.mediaDeviceId}`]);
      // By box event time on both sides, so a late record is judged by when it happened, not when it arrived.
      const window = rule.cooldownSeconds * 1000;
      const near = await m
        .getRepository(Alert)
        .createQueryBuilder('a')
        .select('a.id')
        .where('a.ruleId = :ruleId AND a.cooldownKey = :cooldownKey AND a.mediaDeviceId = :mediaDeviceId', {
          ruleId: rule.id,
          cooldownKey,
          mediaDeviceId: r.mediaDeviceId,
        })
        .andWhere('a.occurredAt > :lo AND a.occurredAt < :hi AND a.recordId <> :recordId', {
          lo: r.occurredAt - window,
          hi: r.occurredAt + window,
          recordId: r.recordId,
        })
        .limit(1)
        .getOne();
      if (near) return null;
    }
    const now = Date.now();
    const id = randomUUID();
    const rows: { id: string }[] = await m.query(
      `INSERT INTO alerts (id, rule_id, rule_name, severity, state, event_id, record_id, person_id, identity_id, identity_external_id,
         identity_name, cooldown_key, box_id, media_device_id, score, occurred_at, created_at)
       VALUES (${d.params(1, 17)})
       ON CONFLICT (rule_id, record_id) DO NOTHING
       RETURNING id`,
      [
        id,
        rule.id,
        rule.name,
        rule.severity,
        'open',
        eventId,
        r.recordId,
        personId,
        r.identityId,
        r.identityExternalId,
        r.identityName,
        cooldownKey,
        r.boxId,
        r.mediaDeviceId,
        r.score,
        r.occurredAt,
        now,
      ],
    );
    if (rows.length === 0) return null;
    const alert: AlertRef = {
      alertId: id,
      ruleId: rule.id,
      ruleName: rule.name,
      severity: rule.severity,
      recordId: r.recordId,
      boxId: r.boxId,
      mediaDeviceId: r.mediaDeviceId,
      personId,
      identityId: r.identityId,
      identityExternalId: r.identityExternalId,
      identityName: r.identityName,
      userType: r.userType,
      score: r.score,
      occurredAt: r.occurredAt,
      raisedAt: now,
    };
    // The record is the aggregate, so stream filters (box, user type), image links and retention follow it.
    await this.outbox.enqueue(m, r.recordId, [new AlertRaisedEvent(alert)], now);
    return alert;
  }

  /** Newest raised first, keyset-paginated by (raised at, id). */
  async list(q: AlertQueryDto): Promise<AlertPageDto> {
    const qb = this.uow.dataSource.getRepository(Alert).createQueryBuilder('a');
    if (q.ruleId) qb.andWhere('a.ruleId = :ruleId', { ruleId: q.ruleId });
    if (q.severity) qb.andWhere('a.severity = :severity', { severity: q.severity });
    if (q.state) qb.andWhere('a.state = :state', { state: q.state });
    if (q.boxId) qb.andWhere('a.boxId = :boxId', { boxId: q.boxId });
    if (q.personId) qb.andWhere('a.personId = :personId', { personId: q.personId });
    if (q.from !== undefined) qb.andWhere('a.occurredAt >= :from', { from: q.from });
    if (q.to !== undefined) qb.andWhere('a.occurredAt < :to', { to: q.to });
    if (q.cursor) {
      const c = decodeCursor<{ t: number; id: string }>(q.cursor, { t: 'number', id: 'string' });
      qb.andWhere('(a.createdAt < :t OR (a.createdAt = :t AND a.id < :id))', { t: c.t, id: c.id });
    }
    const rows = await qb
      .orderBy('a.createdAt', 'DESC')
      .addOrderBy('a.id', 'DESC')
      .limit(q.limit + 1)
      .getMany();
    const items = rows.slice(0, q.limit);
    const last = items[items.length - 1];
    return { items: items.map(toAlertDto), nextCursor: rows.length > q.limit ? encodeCursor({ t: last.createdAt, id: last.id }) : null };
  }

  async get(id: string): Promise<AlertDto> {
    const a = await this.uow.dataSource.getRepository(Alert).findOneBy({ id });
    if (!a) throw alertNotFound();
    return toAlertDto(a);
  }

  /**
   * Acknowledges an open alert: audited, with an `alert.acknowledged` event, all in one transaction. An alert
   * already acknowledged is answered as it is (the first acknowledgement stands; no second event).
   */
  async acknowledge(id: string, comment: string | null, actor: string): Promise<AlertDto> {
    return this.uow.run(async (m) => {
      const repo = m.getRepository(Alert);
      const a = await repo.findOneBy({ id });
      if (!a) throw alertNotFound();
      if (a.state === 'acknowledged') return toAlertDto(a);
      const now = Date.now();
      // Conditional, so two operators acknowledging at once make one acknowledgement.
      const result = await repo
        .createQueryBuilder()
        .update()
        .set({ state: 'acknowledged', acknowledgedAt: now, acknowledgedBy: actor.slice(0, 200), acknowledgeComment: comment })
        .where('id = :id AND state = :open', { id, open: 'open' })
        .execute();
      const after = (await repo.findOneBy({ id }))!;
      if (result.affected === 0) return toAlertDto(after);
      await this.audit.recordIn(m, {
        actor,
        action: 'alert.acknowledged',
        subjectType: 'alert',
        subjectId: id,
        details: { ruleId: a.ruleId, recordId: a.recordId, comment },
      });
      await this.outbox.enqueue(
        m,
        a.recordId,
        [
          new AlertAcknowledgedEvent({
            alertId: id,
            ruleId: a.ruleId,
            recordId: a.recordId,
            severity: a.severity,
            acknowledgedAt: now,
            acknowledgedBy: actor,
            comment,
          }),
        ],
        now,
      );
      return toAlertDto(after);
    });
  }

  /**
   * Which stored records a rule would have raised alerts for in a box event time window, cooldown included
   * (counted among the window's own matches; alerts already raised by saved rules do not count). Bounded: a window
   * of at most DRY_RUN_MAX_WINDOW_MS, at most DRY_RUN_MAX_RECORDS records read (oldest first; `truncated` says
   * the rest was not read), at most DRY_RUN_MAX_ITEMS listed.
   */
  async dryRun(body: AlertRuleDryRunDto): Promise<AlertRuleDryRunResultDto> {
    if (body.to <= body.from) throw invalidRule('to', 'must be after from');
    if (body.to - body.from > DRY_RUN_MAX_WINDOW_MS) throw invalidRule('to', 'must be at most 31 days after from');
    const conditions: AlertRuleConditions = conditionsFrom(body.rule, {}, 'rule.');
    const candidates = await this.records.alertCandidates({
      from: body.from,
      to: body.to,
      boxIds: conditions.boxIds,
      mediaDeviceIds: conditions.mediaDeviceIds,
      userTypes: conditions.userTypes,
      limit: DRY_RUN_MAX_RECORDS + 1,
    });
    const truncated = candidates.length > DRY_RUN_MAX_RECORDS;
    const scanned = candidates.slice(0, DRY_RUN_MAX_RECORDS);
    const identityIds = [...new Set(scanned.map((r) => r.identityId).filter((id): id is string => id !== null))];
    const persons = await this.persons.personsOf(identityIds);
    const cooldown = (body.rule.cooldownSeconds ?? 0) * 1000;
    const lastAlert = new Map<string, number>();
    const items: DryRunMatchDto[] = [];
    let matched = 0;
    let suppressed = 0;
    for (const r of scanned) {
      const personId = r.identityId === null ? null : (persons.get(r.identityId) ?? r.identityId);
      if (!matchesConditions(conditions, r, personId, this.defaultZone)) continue;
      // Oldest first, so the previous match of the same key is the nearest one before this record.
      const key = `${cooldownKeyOf(personId, r.identityId)}|${r.mediaDeviceId}`;
      const previous = lastAlert.get(key);
      if (cooldown > 0 && previous !== undefined && r.occurredAt - previous < cooldown) {
        suppressed++;
        continue;
      }
      lastAlert.set(key, r.occurredAt);
      matched++;
      if (items.length < DRY_RUN_MAX_ITEMS)
        items.push({
          recordId: r.recordId,
          occurredAt: r.occurredAt,
          boxId: r.boxId,
          mediaDeviceId: r.mediaDeviceId,
          personId,
          identityId: r.identityId,
          identityExternalId: r.identityExternalId,
          identityName: r.identityName,
          userType: r.userType,
          score: r.score,
        });
    }
    return {
      items,
      matched,
      suppressedByCooldown: suppressed,
      scanned: scanned.length,
      truncated,
      scannedUntil: truncated ? scanned[scanned.length - 1].occurredAt : body.to,
    };
  }
}
