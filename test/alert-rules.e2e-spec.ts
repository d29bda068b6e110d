import { DataSource } from 'typeorm';
import { AlertsService } from '../src/alerts/alerts.service';
import { databaseSettings } from '../src/config/app-config.service';
import { buildDataSourceOptions } from '../src/database/data-source-options';
import { entities } from '../src/entities';
import { DEFAULT_ALERT_RULES } from '../src/database/migrations/1764900000000-alert-rules';
import { boxRecordWithOwnFace as boxRecord, createApiKey, Json, push } from './helpers/api-client';
import { startTestApp, TestApp } from './helpers/test-app';
import { createTestDatabase, describeDb, queryRows, TestDatabase, testDbKind } from './helpers/test-database';

const at = (iso: string) => Date.parse(iso);
const [BLACKLIST_RULE, VIP_RULE] = DEFAULT_ALERT_RULES.map((r) => r.id);

describeDb('alert rules and alerts', () => {
  let t: TestApp;
  let admin: string;
  let reader: string;
  const q = (sql: string, params: unknown[] = []) => queryRows<Json>(t.dataSource, sql, params);
  const get = (path: string, key = admin) => t.http().get(path).set('x-api-key', key);
  const post = (path: string, body: object, key = admin) => t.http().post(path).set('x-api-key', key).send(body);
  const pushAndRelay = async (body: Json) => {
    await push(t, body);
    await t.drainOutbox();
  };
  const recordId = async (identity: string, timestamp: number) =>
    (await q('SELECT id FROM recognition_records WHERE identity_external_id = ? AND occurred_at = ?', [identity, timestamp]))[0]
      .id as string;
  const identityId = async (external: string) => (await q('SELECT id FROM identities WHERE external_id = ?', [external]))[0].id as string;
  const alertsOf = async (ruleId: string) =>
    (await q('SELECT record_id FROM alerts WHERE rule_id = ? ORDER BY occurred_at', [ruleId])).map((a) => a.record_id as string);
  const createRule = async (body: Json) => {
    const res = await post('/alert-rules', { severity: 'warning', ...body });
    expect([res.status, res.body.field]).toEqual([201, undefined]);
    return res.body as Json & { id: string };
  };

  beforeAll(async () => {
    t = await startTestApp();
    admin = (await createApiKey(t, 'admin')).key;
    reader = (await createApiKey(t, 'reader')).key;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('the migration creates the two default rules, which raise what the watch-list alerts did', async () => {
    const rules = (await get('/alert-rules').expect(200)).body as Json[];
    expect(rules.map((r) => [r.id, r.name, r.severity, r.userTypes, r.enabled, r.cooldownSeconds])).toEqual([
      [BLACKLIST_RULE, 'Blacklist seen', 'critical', ['blacklist'], true, 0],
      [VIP_RULE, 'VIP seen', 'info', ['vip'], true, 0],
    ]);
    const black = boxRecord({ identity: 'D-B', userType: 'blacklist', timestamp: 1_700_000_001_000 });
    const vip = boxRecord({ identity: 'D-V', userType: 'vip', timestamp: 1_700_000_002_000 });
    const staff = boxRecord({ identity: 'D-E', userType: 'employee', timestamp: 1_700_000_003_000 });
    for (const r of [black, vip, staff]) await pushAndRelay(r);
    expect(await alertsOf(BLACKLIST_RULE)).toEqual([await recordId('D-B', 1_700_000_001_000)]);
    expect(await alertsOf(VIP_RULE)).toEqual([await recordId('D-V', 1_700_000_002_000)]);
    // The old event names keep coming, next to alert.raised.
    const types = async (rid: string) =>
      (await q('SELECT type FROM outbox_events WHERE aggregate_id = ? ORDER BY id', [rid])).map((e) => e.type);
    expect(await types(await recordId('D-B', 1_700_000_001_000))).toEqual(['recognition.recorded', 'alert.blacklist-seen', 'alert.raised']);
    expect(await types(await recordId('D-V', 1_700_000_002_000))).toEqual(['recognition.recorded', 'alert.vip-seen', 'alert.raised']);
    expect(await types(await recordId('D-E', 1_700_000_003_000))).toEqual(['recognition.recorded']);
    const page = (await get(`/alerts?ruleId=${BLACKLIST_RULE}`, reader).expect(200)).body as { items: Json[] };
    expect(page.items).toHaveLength(1);
    expect(page.items[0]).toMatchObject({ ruleName: 'Blacklist seen', severity: 'critical', state: 'open', identityExternalId: 'D-B' });
    expect(page.items[0].personId).toBe(await identityId('D-B'));
  });

  describe('every condition, through the app', () => {
    const R1 = { identity: 'C-E', userType: 'employee', box: 'BOX-A', device: 'cam-1', score: 95, timestamp: at('2026-11-25T12:00:00Z') }; // Wed
    const R2 = { identity: 'C-S', userType: 'stranger', box: 'BOX-A', device: 'cam-2', score: 50, timestamp: at('2026-11-25T21:00:00Z') }; // Wed
    const R3 = {
      identity: 'C-V',
      userType: 'vip',
      box: 'BOX-B',
      device: 'cam-1',
      score: 80,
      timestamp: at('2026-11-28T03:00:00Z'),
      defective: true,
    }; // Sat
    const R4 = { identity: '', userType: 'visitor', box: 'BOX-B', device: 'cam-1', score: 30, timestamp: at('2026-11-23T03:00:00Z') }; // Mon
    const ids: Record<string, string> = {};
    const rules: Record<string, string> = {};

    beforeAll(async () => {
      // Identities, boxes and cameras exist first (their ids go into the rules); these older records raise nothing.
      for (const [i, r] of [R1, R2, R3, R4].entries()) await pushAndRelay(boxRecord({ ...r, timestamp: 1_600_000_000_000 + i }));
      const boxes = (await get('/boxes?limit=500').expect(200)).body.items as Json[];
      const box = (key: string) => boxes.find((b) => b.licenseKey === key)!.id as string;
      const device = async (key: string, deviceId: string) =>
        ((await get(`/boxes/${box(key)}`).expect(200)).body.mediaDevices as Json[]).find((m) => m.deviceId === deviceId)!.id as string;
      const nights = (timeZone: string) => ({
        timeZone,
        windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '20:00', to: '06:00' }],
      });
      const conditions: Record<string, Json> = {
        userTypes: { userTypes: ['vip'] },
        unknownOnly: { unknownOnly: true },
        identityIds: { identityIds: [await identityId('C-E')] },
        personIds: { personIds: [await identityId('C-E')] },
        excludeIdentityIds: { excludeIdentityIds: [await identityId('C-E')] },
        excludePersonIds: { excludePersonIds: [await identityId('C-V')] },
        boxIds: { boxIds: [box('BOX-B')] },
        mediaDeviceIds: { mediaDeviceIds: [await device('BOX-A', 'cam-2')] },
        nightsUtc: { schedule: nights('UTC') },
        nightsTokyo: { schedule: nights('Asia/Tokyo') },
        minScore: { minScore: 0.8 },
        withDefects: { hasDefects: true },
        withoutDefects: { hasDefects: false },
        combined: { userTypes: ['stranger', 'vip'], boxIds: [box('BOX-A')] },
      };
      for (const [name, c] of Object.entries(conditions)) rules[name] = (await createRule({ name, ...c })).id;
      for (const r of [R1, R2, R3, R4]) await pushAndRelay(boxRecord(r));
      for (const [name, r] of Object.entries({ R1, R2, R3, R4 })) ids[name] = await recordId(r.identity, r.timestamp);
    });

    it.each([
      ['userTypes', ['R3']],
      ['unknownOnly', ['R4', 'R2']], // a stranger, and a record without identity
      ['identityIds', ['R1']],
      ['personIds', ['R1']], // each identity has its own face here, so it is a person of its own (id = identity id)
      ['excludeIdentityIds', ['R4', 'R2', 'R3']],
      ['excludePersonIds', ['R4', 'R1', 'R2']],
      ['boxIds', ['R4', 'R3']],
      ['mediaDeviceIds', ['R2']],
      // Mon-Fri 20:00-06:00: Wed 21:00 in, Saturday 03:00 in (Friday night), Monday 03:00 out (Sunday night).
      ['nightsUtc', ['R2', 'R3']],
      // The same windows in Tokyo (UTC+9): Wed 12:00 UTC is 21:00 there; Wed 21:00 UTC is Thu 06:00 (end, exclusive).
      ['nightsTokyo', ['R1']],
      ['minScore', ['R1', 'R3']],
      ['withDefects', ['R3']],
      ['withoutDefects', ['R4', 'R1', 'R2']],
      ['combined', ['R2']],
    ])('%s raises alerts for %j', async (name, expected) => {
      expect(await alertsOf(rules[name])).toEqual(expected.map((r) => ids[r]));
    });

    it('the alert copies the rule severity, record, person and identity; alert.raised carries it', async () => {
      const [alert] = await q('SELECT * FROM alerts WHERE rule_id = ?', [rules.identityIds]);
      expect(alert).toMatchObject({
        rule_name: 'identityIds',
        severity: 'warning',
        state: 'open',
        record_id: ids.R1,
        identity_external_id: 'C-E',
      });
      expect(alert.person_id).toBe(await identityId('C-E'));
      const [event] = await q(`SELECT payload FROM outbox_events WHERE type = 'alert.raised' AND payload LIKE ?`, [
        `%${alert.id as string}%`,
      ]);
      expect(JSON.parse(event.payload as string).alert).toMatchObject({
        alertId: alert.id,
        ruleId: rules.identityIds,
        severity: 'warning',
        recordId: ids.R1,
        occurredAt: R1.timestamp,
      });
    });

    it('dry run answers which stored records a rule would have raised alerts for, and saves nothing', async () => {
      const before = ((await get('/alert-rules').expect(200)).body as Json[]).length;
      const res = await post('/alert-rules/dry-run', {
        rule: { name: 'try', severity: 'info', unknownOnly: true },
        from: '2026-11-20T00:00:00Z',
        to: at('2026-11-30T00:00:00Z'),
      }).expect(200);
      expect(res.body).toMatchObject({
        matched: 2,
        suppressedByCooldown: 0,
        scanned: 4,
        truncated: false,
        scannedUntil: at('2026-11-30T00:00:00Z'),
      });
      expect(res.body.items.map((i: Json) => i.recordId)).toEqual([ids.R4, ids.R2]);
      expect(res.body.items[1]).toMatchObject({ identityExternalId: 'C-S', userType: 'stranger', score: 0.5 });
      const tokyo = await post('/alert-rules/dry-run', {
        rule: {
          name: 'try',
          severity: 'info',
          schedule: { timeZone: 'Asia/Tokyo', windows: [{ days: ['wed'], from: '20:00', to: '06:00' }] },
        },
        from: at('2026-11-20T00:00:00Z'),
        to: at('2026-11-30T00:00:00Z'),
      }).expect(200);
      expect(tokyo.body.items.map((i: Json) => i.recordId)).toEqual([ids.R1]);
      expect(((await get('/alert-rules').expect(200)).body as Json[]).length).toBe(before);
    });
  });

  it('cooldown: one alert per person and camera within the cooldown, by box event time, late records included', async () => {
    const rule = await createRule({ name: 'loiter', identityIds: [], userTypes: ['visitor'], cooldownSeconds: 60 });
    const t0 = at('2026-10-01T10:00:00Z');
    const seen = (ts: number, device = 'cam-1') => boxRecord({ identity: 'L-1', userType: 'visitor', box: 'BOX-L', device, timestamp: ts });
    const order = [t0, t0 + 30_000, t0 + 70_000, t0 - 20_000, t0 - 120_000];
    for (const ts of order) await pushAndRelay(seen(ts));
    await pushAndRelay(seen(t0 + 10_000, 'cam-2')); // another camera counts on its own
    await pushAndRelay(boxRecord({ identity: 'L-2', userType: 'visitor', box: 'BOX-L', timestamp: t0 + 5_000 })); // another person too
    const alerts = await q('SELECT identity_external_id, occurred_at FROM alerts WHERE rule_id = ? ORDER BY occurred_at', [rule.id]);
    // t0+30 s is within 60 s of t0; the late t0-20 s too; t0+70 s and the late t0-120 s are not.
    expect(alerts.map((a) => [a.identity_external_id, Number(a.occurred_at) - t0])).toEqual([
      ['L-1', -120_000],
      ['L-1', 0],
      ['L-2', 5_000],
      ['L-1', 10_000],
      ['L-1', 70_000],
    ]);

    // The dry run applies the same cooldown over the window, oldest first.
    const dry = await post('/alert-rules/dry-run', {
      rule: {
        name: 'loiter',
        severity: 'info',
        userTypes: ['visitor'],
        boxIds: [alertsBox(await q('SELECT box_id FROM alerts WHERE rule_id = ?', [rule.id]))],
        cooldownSeconds: 60,
      },
      from: t0 - 3_600_000,
      to: t0 + 3_600_000,
    }).expect(200);
    expect(dry.body.items.map((i: Json) => [i.identityExternalId, (i.occurredAt as number) - t0])).toEqual([
      ['L-1', -120_000],
      ['L-1', -20_000], // oldest first: t0-20 s comes before t0 here, so it is the one that alerts
      ['L-2', 5_000],
      ['L-1', 10_000],
      ['L-1', 70_000],
    ]);
    expect(dry.body.suppressedByCooldown).toBe(2);
  });

  it('exactly once per (rule, record): redelivered events and resent records raise nothing more', async () => {
    const before = {
      alerts: (await q('SELECT COUNT(*) AS n FROM alerts'))[0].n,
      raised: (await q(`SELECT COUNT(*) AS n FROM outbox_events WHERE type = 'alert.raised'`))[0].n,
    };
    await q('UPDATE outbox_events SET processed_at = NULL');
    await t.drainOutbox();
    await pushAndRelay(boxRecord({ identity: 'D-B', userType: 'blacklist', timestamp: 1_700_000_001_000 }));
    expect((await q('SELECT COUNT(*) AS n FROM alerts'))[0].n).toEqual(before.alerts);
    expect((await q(`SELECT COUNT(*) AS n FROM outbox_events WHERE type = 'alert.raised'`))[0].n).toEqual(before.raised);
  });

  it('GET /alerts filters by rule, severity, state, box, person and time, and pages with a cursor', async () => {
    const all: Json[] = [];
    let cursor: string | null = null;
    do {
      const res = await get(`/alerts?limit=3${cursor ? `&cursor=${cursor}` : ''}`, reader).expect(200);
      all.push(...(res.body.items as Json[]));
      cursor = res.body.nextCursor as string | null;
    } while (cursor);
    const total = Number((await q('SELECT COUNT(*) AS n FROM alerts'))[0].n);
    expect(all).toHaveLength(total);
    expect(new Set(all.map((a) => a.id)).size).toBe(total);
    const raised = all.map((a) => a.raisedAt as number);
    expect([...raised].sort((a, b) => b - a)).toEqual(raised);

    const count = async (query: string) => ((await get(`/alerts?limit=500&${query}`, reader).expect(200)).body.items as Json[]).length;
    const pick = all.find((a) => a.identityExternalId === 'L-1')!;
    expect(await count(`ruleId=${pick.ruleId as string}`)).toBe(all.filter((a) => a.ruleId === pick.ruleId).length);
    expect(await count('severity=critical')).toBe(all.filter((a) => a.severity === 'critical').length);
    expect(await count('state=open')).toBe(total);
    expect(await count(`boxId=${pick.boxId as string}`)).toBe(all.filter((a) => a.boxId === pick.boxId).length);
    expect(await count(`personId=${pick.personId as string}`)).toBe(all.filter((a) => a.personId === pick.personId).length);
    const from = at('2026-10-01T10:00:00Z');
    expect(await count(`from=${from}&to=2026-10-01T10:01:00Z`)).toBe(
      all.filter((a) => (a.occurredAt as number) >= from && (a.occurredAt as number) < from + 60_000).length,
    );
    expect(await count(`from=${from}&to=2026-10-01T10:01:00Z`)).toBeGreaterThan(0);
  });

  it('acknowledge: with a comment, audited, alert.acknowledged, once', async () => {
    const [open] = (await get('/alerts?severity=critical&state=open', reader).expect(200)).body.items as Json[];
    const res = await post(`/alerts/${open.id as string}/acknowledge`, { comment: 'guard sent' }, reader).expect(200);
    expect(res.body).toMatchObject({ id: open.id, state: 'acknowledged', comment: 'guard sent' });
    expect(res.body.acknowledgedBy).toMatch(/^api-key:/);
    expect(res.body.acknowledgedAt).toEqual(expect.any(Number));
    // Already acknowledged: answered as it is, no second event or audit entry.
    const again = await post(`/alerts/${open.id as string}/acknowledge`, { comment: 'other' }, reader).expect(200);
    expect(again.body).toMatchObject({ state: 'acknowledged', comment: 'guard sent' });
    // Without a body too.
    const [other] = (await get('/alerts?state=open', reader).expect(200)).body.items as Json[];
    expect(
      (
        await t
          .http()
          .post(`/alerts/${other.id as string}/acknowledge`)
          .set('x-api-key', reader)
          .expect(200)
      ).body,
    ).toMatchObject({
      state: 'acknowledged',
      comment: null,
    });

    const events = await q(`SELECT payload, aggregate_id FROM outbox_events WHERE type = 'alert.acknowledged' AND payload LIKE ?`, [
      `%${open.id as string}%`,
    ]);
    expect(events).toHaveLength(1);
    expect(events[0].aggregate_id).toBe(open.recordId);
    expect(JSON.parse(events[0].payload as string).acknowledgement).toMatchObject({
      alertId: open.id,
      comment: 'guard sent',
      severity: 'critical',
    });
    const audit = (await get(`/audit-log?action=alert.acknowledged&subjectId=${open.id as string}`).expect(200)).body.items as Json[];
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ subjectType: 'alert' });
    expect((await get('/alerts?state=acknowledged', reader).expect(200)).body.items.map((a: Json) => a.id)).toEqual(
      expect.arrayContaining([open.id, other.id]),
    );
    const missing = await post('/alerts/00000000-0000-4000-8000-000000000000/acknowledge', {}, reader).expect(404);
    expect(missing.body).toMatchObject({ code: 'alert_not_found', field: 'id' });
  });

  it('rule CRUD is admin only and audited', async () => {
    expect((await post('/alert-rules', { name: 'x', severity: 'info' }, reader)).status).toBe(403);
    const rule = await createRule({ name: 'crud', severity: 'info', minScore: 0.5 });
    const patched = await t
      .http()
      .patch(`/alert-rules/${rule.id}`)
      .set('x-api-key', admin)
      .send({ severity: 'critical', minScore: null, boxIds: [], enabled: false })
      .expect(200);
    expect(patched.body).toMatchObject({ severity: 'critical', minScore: null, boxIds: null, enabled: false, name: 'crud' });
    expect((await get(`/alert-rules/${rule.id}`).expect(200)).body).toEqual(patched.body);
    await t.http().delete(`/alert-rules/${rule.id}`).set('x-api-key', admin).expect(204);
    expect((await get(`/alert-rules/${rule.id}`).expect(404)).body).toMatchObject({ code: 'alert_rule_not_found' });
    const audit = (await get(`/audit-log?subjectType=alert-rule&subjectId=${rule.id}`).expect(200)).body.items as Json[];
    expect(audit.map((a) => a.action)).toEqual(['alert-rule.deleted', 'alert-rule.updated', 'alert-rule.created']);
  });

  it.each([
    [{ name: 'x', severity: 'loud' }, 'severity'],
    [{ severity: 'info' }, 'name'],
    [{ name: 'x', severity: 'info', userTypes: ['alien'] }, 'userTypes'],
    [{ name: 'x', severity: 'info', identityIds: ['not-a-uuid'] }, 'identityIds'],
    [{ name: 'x', severity: 'info', minScore: 1.5 }, 'minScore'],
    [{ name: 'x', severity: 'info', cooldownSeconds: -1 }, 'cooldownSeconds'],
    [{ name: 'x', severity: 'info', hasDefects: 'yes' }, 'hasDefects'],
    [{ name: 'x', severity: 'info', schedule: { windows: [{ days: ['mon'], from: '25:00', to: '06:00' }] } }, 'schedule.windows.0.from'],
    [
      { name: 'x', severity: 'info', schedule: { windows: [{ days: ['someday'], from: '20:00', to: '06:00' }] } },
      'schedule.windows.0.days',
    ],
    [{ name: 'x', severity: 'info', schedule: { windows: [{ days: ['mon'], from: '20:00', to: '20:00' }] } }, 'schedule.windows.0.to'],
    [
      { name: 'x', severity: 'info', schedule: { timeZone: 'Mars/Olympus', windows: [{ days: ['mon'], from: '20:00', to: '06:00' }] } },
      'schedule.timeZone',
    ],
    [{ name: 'x', severity: 'info', schedule: { windows: [] } }, 'schedule.windows'],
  ])('POST /alert-rules %j: 400 naming %s', async (body, field) => {
    const res = await post('/alert-rules', body).expect(400);
    expect(res.body).toMatchObject({ code: 'invalid_input', field });
  });

  it.each([
    [{ rule: { name: 'x', severity: 'info' }, from: 0, to: 32 * 24 * 3600 * 1000 }, 'to'],
    [{ rule: { name: 'x', severity: 'info' }, from: 5000, to: 5000 }, 'to'],
    [{ rule: { name: 'x' }, from: 0, to: 1000 }, 'rule.severity'],
    [
      {
        rule: { name: 'x', severity: 'info', schedule: { timeZone: 'Nowhere', windows: [{ days: ['mon'], from: '01:00', to: '02:00' }] } },
        from: 0,
        to: 1000,
      },
      'rule.schedule.timeZone',
    ],
    [{ rule: { name: 'x', severity: 'info' }, from: 'yesterday', to: 1000 }, 'from'],
  ])('POST /alert-rules/dry-run %j: 400 naming %s', async (body, field) => {
    const res = await post('/alert-rules/dry-run', body).expect(400);
    expect(res.body).toMatchObject({ code: 'invalid_input', field });
  });

  it.each([
    ['severity=loud', 'severity'],
    ['state=closed', 'state'],
    ['boxId=nope', 'boxId'],
    ['ruleId=nope', 'ruleId'],
    ['from=soon', 'from'],
    [`cursor=${Buffer.from('{"t":"x"}').toString('base64url')}`, 'cursor'],
  ])('GET /alerts?%s: 400 naming %s', async (query, field) => {
    expect((await get(`/alerts?${query}`, reader).expect(400)).body).toMatchObject({ field });
  });

  it('dry run over HTTP reads at most 10,000 records: truncated, with scannedUntil, and lists at most 1,000 matches', async () => {
    const t0 = at('2025-03-01T00:00:00Z');
    await pushAndRelay(boxRecord({ identity: 'B-1', userType: 'visitor', box: 'BOX-BIG', timestamp: t0 }));
    const [src] = await q('SELECT id, box_id FROM recognition_records WHERE identity_external_id = ? AND occurred_at = ?', ['B-1', t0]);
    // 10,005 more records of that box, one a second, copied from the stored one in one statement (pushing them
    // through the box API would take minutes).
    const columns = t.dataSource.getMetadata('RecognitionRecord').columns.map((c) => c.databaseName);
    const value = (c: string) =>
      c === 'id' ? `'seed-' || n.i` : c === 'occurred_at' || c === 'box_timestamp' ? `r.${c} + n.i * 1000` : `r.${c}`;
    await t.dataSource.query(
      `INSERT INTO recognition_records (${columns.join(', ')})
       WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10005)
       SELECT ${columns.map(value).join(', ')} FROM recognition_records r CROSS JOIN n WHERE r.id = '${String(src.id)}'`,
    );
    const res = await post('/alert-rules/dry-run', {
      rule: { name: 'big', severity: 'info', boxIds: [src.box_id] },
      from: t0,
      to: t0 + 31 * 24 * 3600 * 1000,
    }).expect(200);
    // Oldest first: the stored record, then the copies 1..9,999 are read; the rest is left for a later window.
    expect(res.body).toMatchObject({
      scanned: 10_000,
      matched: 10_000,
      suppressedByCooldown: 0,
      truncated: true,
      scannedUntil: t0 + 9_999_000,
    });
    expect(res.body.items).toHaveLength(1_000);
    expect([res.body.items[0].recordId, res.body.items[999].occurredAt]).toEqual([src.id, t0 + 999_000]);
    // Continuing from scannedUntil + 1 reads the rest.
    const rest = await post('/alert-rules/dry-run', {
      rule: { name: 'big', severity: 'info', boxIds: [src.box_id] },
      from: t0 + 9_999_001,
      to: t0 + 31 * 24 * 3600 * 1000,
    }).expect(200);
    expect(rest.body).toMatchObject({ scanned: 6, matched: 6, truncated: false });
    await q(`DELETE FROM recognition_records WHERE id LIKE 'seed-%'`);
  });

  // Two instances on one PostgreSQL (SQLite is one process per file, one write transaction at a time).
  (testDbKind() === 'postgres' ? it : it.skip)(
    'cooldown across two instances: records of one person at one camera handled at once raise one alert',
    async () => {
      const second = await startTestApp({ db: t.db });
      try {
        // Disabled while the records are stored, so nothing evaluates them before the race below.
        const rule = await createRule({ name: 'two-instances', userTypes: ['visitor'], cooldownSeconds: 600, enabled: false });
        const t0 = at('2026-09-01T10:00:00Z');
        const people = ['K-1', 'K-2', 'K-3', 'K-4', 'K-5', 'K-6'];
        for (const identity of people)
          for (const dt of [0, 5_000]) await pushAndRelay(boxRecord({ identity, userType: 'visitor', box: 'BOX-K', timestamp: t0 + dt }));
        await t.http().patch(`/alert-rules/${rule.id}`).set('x-api-key', admin).send({ enabled: true }).expect(200);
        const storedAt = Date.now();
        const [a, b] = [t.app.get(AlertsService), second.app.get(AlertsService)];
        // Each instance handles one of the two records of a person, at the same time.
        for (const identity of people) {
          const [r1, r2] = [await recordId(identity, t0), await recordId(identity, t0 + 5_000)];
          await Promise.all([a.evaluateRecord(r1, null, storedAt), b.evaluateRecord(r2, null, storedAt)]);
        }
        const alerts = await q('SELECT identity_external_id FROM alerts WHERE rule_id = ? ORDER BY identity_external_id', [rule.id]);
        expect(alerts.map((r) => r.identity_external_id)).toEqual(people);
      } finally {
        await second.close();
      }
    },
  );
});

function alertsBox(rows: Json[]): string {
  return rows[0].box_id as string;
}

describeDb('migration AlertRules', () => {
  let db: TestDatabase;
  afterAll(async () => {
    await db?.drop();
  });

  it('keeps existing watch-list alerts under the default rules, and reverts', async () => {
    db = await createTestDatabase();
    const options = buildDataSourceOptions(databaseSettings(db.env.DATABASE_URL, db.dataDir, undefined, 2), entities);
    const all = options.migrations as { name: string }[];
    const at = all.findIndex((m) => m.name === 'AlertRules1764900000000');
    const before = new DataSource({ ...options, migrations: all.slice(0, at) } as typeof options);
    await before.initialize();
    await before.runMigrations();
    const yes = before.options.type === 'postgres' ? 'true' : '1';
    await before.query(`INSERT INTO boxes (id, license_key, enabled, first_seen_at, last_seen_at) VALUES ('b1', 'K', ${yes}, 1, 1)`);
    await before.query(`INSERT INTO media_devices (id, box_id, device_id, first_seen_at, last_seen_at) VALUES ('m1', 'b1', 'cam', 1, 1)`);
    for (const r of ['r1', 'r2'])
      await before.query(
        `INSERT INTO recognition_records (id, box_id, media_device_id, device_external_id, identity_external_id, occurred_at, box_timestamp, defects, received_at)
         VALUES ('${r}', 'b1', 'm1', 'cam', '${r}', 1700000000000, 1700000000000, '[]', 1)`,
      );
    await before.query(`INSERT INTO alerts (id, kind, record_id, identity_id, identity_external_id, box_id, media_device_id, occurred_at, created_at)
      VALUES ('a1', 'blacklist-seen', 'r1', 'i1', 'r1', 'b1', 'm1', 1700000000000, 5), ('a2', 'vip-seen', 'r2', NULL, 'r2', 'b1', 'm1', 1700000000000, 6)`);
    await before.destroy();

    const after = new DataSource({ ...options, migrations: all.slice(0, at + 1) } as typeof options);
    await after.initialize();
    try {
      await after.runMigrations();
      const rows: Json[] = await after.query(
        'SELECT id, rule_id, rule_name, severity, state, person_id, cooldown_key FROM alerts ORDER BY id',
      );
      expect(rows).toEqual([
        {
          id: 'a1',
          rule_id: BLACKLIST_RULE,
          rule_name: 'Blacklist seen',
          severity: 'critical',
          state: 'open',
          person_id: 'i1',
          cooldown_key: 'person:i1',
        },
        { id: 'a2', rule_id: VIP_RULE, rule_name: 'VIP seen', severity: 'info', state: 'open', person_id: null, cooldown_key: 'none' },
      ]);
      expect((await after.query('SELECT id FROM alert_rules ORDER BY id')).map((r: Json) => r.id)).toEqual([BLACKLIST_RULE, VIP_RULE]);
      await after.undoLastMigration();
      expect(await after.query('SELECT id, kind FROM alerts ORDER BY id')).toEqual([
        { id: 'a1', kind: 'blacklist-seen' },
        { id: 'a2', kind: 'vip-seen' },
      ]);
    } finally {
      await after.destroy();
    }
  });
});
