import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { rowBool } from '../database/row-values';
import { UnitOfWork } from '../database/unit-of-work';
import { alertRuleNotFound, invalidRule } from './alert-errors';
import { isValidTimeZone, minutesOf } from './alert-matching';
import { AlertRuleConditions, AlertSchedule, Weekday } from './alert-rule.types';
import { AlertRuleConditionsDto, AlertRuleDto, CreateAlertRuleDto, UpdateAlertRuleDto } from './dto/alert-rule.dto';
import { AlertRule } from './entities/alert-rule.entity';

interface AlertRuleRow {
  id: string;
  name: string;
  enabled: boolean | number;
  severity: string;
  cooldown_seconds: number | string;
  conditions: string | AlertRuleConditions;
  created_at: number | string;
  updated_at: number | string;
}

const CONDITION_KEYS = [
  'userTypes',
  'unknownOnly',
  'personIds',
  'identityIds',
  'excludePersonIds',
  'excludeIdentityIds',
  'boxIds',
  'mediaDeviceIds',
  'schedule',
  'minScore',
  'hasDefects',
] as const satisfies readonly (keyof AlertRuleConditions)[];

/** The conditions a request gives, checked beyond the DTO (time zone, windows), in stored form. */
export function conditionsFrom(body: AlertRuleConditionsDto, base: AlertRuleConditions = {}, prefix = ''): AlertRuleConditions {
  const out: Record<string, unknown> = { ...base };
  for (const key of CONDITION_KEYS) {
    if (!(key in body) || body[key] === undefined) continue;
    const value = body[key];
    // null (or an empty list, or false for unknownOnly) lifts the condition.
    if (value === null || (Array.isArray(value) && value.length === 0) || (key === 'unknownOnly' && value === false)) delete out[key];
    else out[key] = key === 'schedule' ? scheduleFrom(value as AlertSchedule, `${prefix}schedule`) : value;
  }
  return out as AlertRuleConditions;
}

function scheduleFrom(s: AlertSchedule, field: string): AlertSchedule {
  if (s.timeZone !== undefined && s.timeZone !== null && !isValidTimeZone(s.timeZone))
    throw invalidRule(`${field}.timeZone`, 'must be an IANA time zone such as Europe/Berlin');
  s.windows.forEach((w, i) => {
    if (minutesOf(w.from) === minutesOf(w.to)) throw invalidRule(`${field}.windows.${i}.to`, 'must differ from from');
    if (w.from === '24:00') throw invalidRule(`${field}.windows.${i}.from`, 'must be before 24:00');
  });
  return {
    ...(s.timeZone ? { timeZone: s.timeZone } : {}),
    windows: s.windows.map((w) => ({ days: [...new Set(w.days)] as Weekday[], from: w.from, to: w.to })),
  };
}

export function toRuleDto(r: AlertRule): AlertRuleDto {
  const c = r.conditions;
  const list = (v: string[] | undefined) => (v?.length ? v : null);
  return {
    id: r.id,
    name: r.name,
    enabled: Boolean(r.enabled),
    severity: r.severity,
    cooldownSeconds: r.cooldownSeconds,
    userTypes: list(c.userTypes),
    unknownOnly: Boolean(c.unknownOnly),
    personIds: list(c.personIds),
    identityIds: list(c.identityIds),
    excludePersonIds: list(c.excludePersonIds),
    excludeIdentityIds: list(c.excludeIdentityIds),
    boxIds: list(c.boxIds),
    mediaDeviceIds: list(c.mediaDeviceIds),
    schedule: c.schedule ? { timeZone: c.schedule.timeZone ?? null, windows: c.schedule.windows } : null,
    minScore: c.minScore ?? null,
    hasDefects: c.hasDefects ?? null,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

/** Admin-managed alert rules; every change is audited in its own transaction. */
@Injectable()
export class AlertRulesService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly audit: AuditService,
  ) {}

  async create(body: CreateAlertRuleDto, actor: string): Promise<AlertRuleDto> {
    const now = Date.now();
    const rule: AlertRule = {
      id: randomUUID(),
      name: body.name,
      enabled: body.enabled ?? true,
      severity: body.severity,
      cooldownSeconds: body.cooldownSeconds ?? 0,
      conditions: conditionsFrom(body),
      createdAt: now,
      updatedAt: now,
    };
    await this.uow.run(async (m) => {
      await m.getRepository(AlertRule).insert(rule);
      await this.audit.recordIn(m, {
        actor,
        action: 'alert-rule.created',
        subjectType: 'alert-rule',
        subjectId: rule.id,
        details: summary(rule),
      });
    });
    return toRuleDto(rule);
  }

  async list(): Promise<AlertRuleDto[]> {
    const rows = await this.uow.dataSource.getRepository(AlertRule).find({ order: { createdAt: 'ASC', id: 'ASC' } });
    return rows.map(toRuleDto);
  }

  async get(id: string): Promise<AlertRuleDto> {
    const r = await this.uow.dataSource.getRepository(AlertRule).findOneBy({ id });
    if (!r) throw alertRuleNotFound();
    return toRuleDto(r);
  }

  async update(id: string, body: UpdateAlertRuleDto, actor: string): Promise<AlertRuleDto> {
    return this.uow.run(async (m) => {
      const repo = m.getRepository(AlertRule);
      const r = await repo.findOneBy({ id });
      if (!r) throw alertRuleNotFound();
      const before = summary(r);
      if (body.name !== undefined && body.name !== null) r.name = body.name;
      if (body.severity !== undefined && body.severity !== null) r.severity = body.severity;
      if (body.enabled !== undefined && body.enabled !== null) r.enabled = body.enabled;
      if (body.cooldownSeconds !== undefined && body.cooldownSeconds !== null) r.cooldownSeconds = body.cooldownSeconds;
      r.conditions = conditionsFrom(body, r.conditions);
      r.updatedAt = Date.now();
      await repo.save(r);
      await this.audit.recordIn(m, {
        actor,
        action: 'alert-rule.updated',
        subjectType: 'alert-rule',
        subjectId: id,
        details: { before, after: summary(r) },
      });
      return toRuleDto(r);
    });
  }

  /** Deletes the rule; alerts it raised stay (with its id and name). */
  async remove(id: string, actor: string): Promise<void> {
    await this.uow.run(async (m) => {
      const r = await m.getRepository(AlertRule).findOneBy({ id });
      if (!r) throw alertRuleNotFound();
      await m.getRepository(AlertRule).delete({ id });
      await this.audit.recordIn(m, { actor, action: 'alert-rule.deleted', subjectType: 'alert-rule', subjectId: id, details: summary(r) });
    });
  }

  /** Enabled rules, in the caller's transaction (what a record is matched against). */
  async enabledRules(manager: EntityManager): Promise<AlertRule[]> {
    // Read for every stored record, so in plain SQL: the repository's find() cost more CPU than the query itself.
    const rows: AlertRuleRow[] = await manager.query(
      `SELECT id, name, enabled, severity, cooldown_seconds, conditions, created_at, updated_at FROM alert_rules
       WHERE enabled = ${this.uow.dialect.bool(true)} ORDER BY created_at, id`,
    );
    return rows.map((r) =>
      Object.assign(new AlertRule(), {
        id: r.id,
        name: r.name,
        enabled: rowBool(r.enabled),
        severity: r.severity,
        cooldownSeconds: Number(r.cooldown_seconds),
        conditions: (typeof r.conditions === 'string' ? JSON.parse(r.conditions) : r.conditions) as AlertRuleConditions,
        createdAt: Number(r.created_at),
        updatedAt: Number(r.updated_at),
      }),
    );
  }
}

/** What the audit log keeps of a rule: its settings (ids and small facts, no biometrics). */
function summary(r: AlertRule): Record<string, unknown> {
  return { name: r.name, enabled: Boolean(r.enabled), severity: r.severity, cooldownSeconds: r.cooldownSeconds, conditions: r.conditions };
}
