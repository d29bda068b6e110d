import type { AppConfig } from '../config/app-config.service';
import type { UnitOfWork } from '../database/unit-of-work';
import type { AuditService } from '../audit/audit.service';
import type { OutboxService } from '../events/outbox.service';
import type { AlertCandidateQuery, RecordAlertFacts, RecordsStore } from '../recognition-records/records-store.service';
import type { AlertRulesService } from './alert-rules.service';
import { AlertsService, DRY_RUN_MAX_ITEMS, DRY_RUN_MAX_RECORDS } from './alerts.service';
import { AlertRuleDryRunDto } from './dto/alert-rule.dto';
import { IdentityIsPersonLookup } from './person-lookup.types';

const fact = (i: number): RecordAlertFacts => ({
  recordId: `r${i}`,
  identityId: `i${i % 3}`,
  identityExternalId: `p${i % 3}`,
  identityName: null,
  userType: 'stranger',
  boxId: 'b',
  mediaDeviceId: 'm',
  score: 0.9,
  hasDefects: false,
  occurredAt: 1_000_000 + i * 1000,
});

function service(records: RecordAlertFacts[], seen: AlertCandidateQuery[] = []): AlertsService {
  const store = {
    alertCandidates: (q: AlertCandidateQuery) => {
      seen.push(q);
      return Promise.resolve(records.slice(0, q.limit));
    },
  } as unknown as RecordsStore;
  const config = { get: () => 'UTC' } as unknown as AppConfig;
  return new AlertsService(
    {} as UnitOfWork,
    store,
    {} as AlertRulesService,
    {} as OutboxService,
    {} as AuditService,
    config,
    new IdentityIsPersonLookup(),
  );
}

const body = (rule: Partial<AlertRuleDryRunDto['rule']>, from = 0, to = 3_600_000): AlertRuleDryRunDto =>
  ({ rule: { name: 'try', severity: 'info', ...rule }, from, to }) as AlertRuleDryRunDto;

describe('AlertsService.dryRun bounds', () => {
  it('reads at most DRY_RUN_MAX_RECORDS records, lists at most DRY_RUN_MAX_ITEMS, and says where it stopped', async () => {
    const records = Array.from({ length: DRY_RUN_MAX_RECORDS + 50 }, (_, i) => fact(i));
    const seen: AlertCandidateQuery[] = [];
    const res = await service(records, seen).dryRun(body({ unknownOnly: true, boxIds: ['b'] }, 0, 20 * 24 * 3600 * 1000));
    expect(seen).toEqual([
      {
        from: 0,
        to: 20 * 24 * 3600 * 1000,
        boxIds: ['b'],
        mediaDeviceIds: undefined,
        userTypes: undefined,
        limit: DRY_RUN_MAX_RECORDS + 1,
      },
    ]);
    expect(res).toMatchObject({ scanned: DRY_RUN_MAX_RECORDS, matched: DRY_RUN_MAX_RECORDS, truncated: true });
    expect(res.items).toHaveLength(DRY_RUN_MAX_ITEMS);
    expect(res.scannedUntil).toBe(records[DRY_RUN_MAX_RECORDS - 1].occurredAt);
  });

  it('applies the cooldown per person and media device among the matches, oldest first', async () => {
    // Three identities take turns, one record a second: each reappears every 3 s.
    const res = await service(Array.from({ length: 12 }, (_, i) => fact(i))).dryRun(body({ cooldownSeconds: 5 }));
    // Per identity: seen at 0, 3, 6, 9 s; with 5 s of cooldown, 0 and 6 alert, 3 and 9 do not.
    expect(res.items.map((i) => i.recordId)).toEqual(['r0', 'r1', 'r2', 'r6', 'r7', 'r8']);
    expect(res).toMatchObject({ matched: 6, suppressedByCooldown: 6, scanned: 12, truncated: false, scannedUntil: 3_600_000 });
  });

  it('refuses an empty or too long window, naming `to`', async () => {
    await expect(service([]).dryRun(body({}, 5, 5))).rejects.toMatchObject({ code: 'invalid_input', field: 'to' });
    await expect(service([]).dryRun(body({}, 0, 31 * 24 * 3600 * 1000 + 1))).rejects.toMatchObject({ field: 'to' });
  });
});

describe('AlertsService.evaluateRecord(s), before its transaction', () => {
  function evaluating(conditions: Record<string, unknown>): { svc: AlertsService; lookedUp: string[][]; reads: string[] } {
    const lookedUp: string[][] = [];
    const reads: string[] = [];
    const rule = { id: 'rule', name: 'r', enabled: true, severity: 'info', cooldownSeconds: 0, conditions, createdAt: 0, updatedAt: 0 };
    const svc = new AlertsService(
      { dataSource: { manager: {} } } as unknown as UnitOfWork,
      {
        alertFactsOf: (_m: unknown, ids: string[]) => {
          reads.push(`facts ${ids.join(',')}`);
          return Promise.resolve(new Map(ids.map((id) => [id, { ...fact(Number(id.slice(1))), recordId: id }])));
        },
      } as unknown as RecordsStore,
      {
        enabledRules: () => {
          reads.push('rules');
          return Promise.resolve([rule]);
        },
      } as unknown as AlertRulesService,
      {} as OutboxService,
      {} as AuditService,
      { get: () => 'UTC' } as unknown as AppConfig,
      {
        personsOf: (ids: string[]) => {
          lookedUp.push(ids);
          return Promise.resolve(new Map<string, string>());
        },
      },
    );
    return { svc, lookedUp, reads };
  }

  it('reads no person for rules without person conditions (the record matches none of them)', async () => {
    const { svc, lookedUp } = evaluating({ userTypes: ['blacklist'] });
    expect(await svc.evaluateRecord('r1', 1, 10)).toEqual([]);
    expect(lookedUp).toEqual([]);
  });

  it("reads the record's person when a rule names persons", async () => {
    const { svc, lookedUp } = evaluating({ personIds: ['someone-else'] });
    expect(await svc.evaluateRecord('r1', 1, 10)).toEqual([]);
    expect(lookedUp).toEqual([['i1']]);
  });

  it('reads the rules once and the facts of a batch of records in one call', async () => {
    const { svc, reads } = evaluating({ userTypes: ['blacklist'] });
    const items = ['r1', 'r2', 'r3'].map((recordId, i) => ({ recordId, eventId: i, storedAt: 10 }));
    expect(await svc.evaluateRecords(items)).toEqual([[], [], []]);
    expect(reads).toEqual(['rules', 'facts r1,r2,r3']);
  });

  it('reads no facts for records stored before every rule was created', async () => {
    const { svc, reads } = evaluating({});
    expect(await svc.evaluateRecords([{ recordId: 'r1', eventId: 1, storedAt: -1 }])).toEqual([[]]);
    expect(reads).toEqual(['rules']);
  });
});
