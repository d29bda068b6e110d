import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';
import { CALLBACK_PATH, readFixture } from './helpers/test-app';
import { ServerProcess, spawnServer } from './helpers/spawn-server';
import { createTestDatabase, describeDb, openDataSource, queryRows, TestDatabase } from './helpers/test-database';

type Row = Record<string, unknown>;

const sha256 = (base64: string) => createHash('sha256').update(Buffer.from(base64, 'base64')).digest('hex');
const bool = (v: unknown) => v === true || v === 1;

/** Records covering every listener: 1001 (photo and crop), 1002 out of order, blacklist, vip, and a plain one. */
function scenario(prefix: string, t0: number): Row[] {
  const f = (n: number) => readFixture(`typical/00000${n}.json`);
  return [
    { ...f(0), identity_id: `${prefix}-S1`, post_action: '1001', user_type: 'stranger', timestamp: t0 + 1000 },
    { ...f(4), identity_id: `${prefix}-S2`, post_action: '1001', user_type: 'stranger', timestamp: t0 + 2000 },
    { ...f(0), identity_id: `${prefix}-E`, post_action: '1001', user_type: 'stranger', timestamp: t0 + 3000 },
    // The newer face update is posted (and relayed) before the older one.
    { ...f(2), identity_id: `${prefix}-E`, post_action: '1002', user_type: 'employee', timestamp: t0 + 5000 },
    { ...f(1), identity_id: `${prefix}-E`, post_action: '1002', user_type: 'employee', timestamp: t0 + 4000 },
    { ...f(6), identity_id: `${prefix}-B`, post_action: '0', user_type: 'blacklist', timestamp: t0 + 6000 },
    { ...f(7), identity_id: `${prefix}-V`, post_action: '0', user_type: 'vip', timestamp: t0 + 7000 },
    { ...f(3), identity_id: `${prefix}-N`, post_action: '0', user_type: 'employee', timestamp: t0 + 8000 },
  ];
}

describeDb('outbox survives a crash right after the 200', () => {
  let db: TestDatabase;
  let ds: DataSource | undefined;
  const servers: ServerProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    for (const s of servers) s.kill('SIGKILL');
    await ds?.destroy();
    await db?.drop();
  });

  const start = async (env: Record<string, string>) => {
    const s = await spawnServer({ ...db.env, OUTBOX_POLL_INTERVAL_MS: '50', ...env });
    servers.push(s);
    if (!ds) {
      // Opened once the server has migrated the database; reads only.
      ds = await openDataSource(db);
    }
    return s;
  };
  const q = (sql: string, params: unknown[] = []): Promise<Row[]> => queryRows(ds!, sql, params);
  const count = async (sql: string, params: unknown[] = []) => Number((await q(`SELECT COUNT(*) AS n ${sql}`, params))[0].n);
  const postAll = async (s: ServerProcess, records: Row[]) => {
    for (const r of records) {
      const res = await fetch(s.url + CALLBACK_PATH, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(r),
      });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
  };
  const crash = async (s: ServerProcess) => {
    s.kill('SIGKILL');
    expect(await s.exited).toBe('SIGKILL');
  };
  const waitForRelay = async () => {
    for (let i = 0; ; i++) {
      if ((await count('FROM outbox_events WHERE processed_at IS NULL')) === 0) return;
      if (i > 300) throw new Error('outbox not drained after restart');
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  /** Every listener effect of scenario(prefix) is there, exactly once. */
  async function expectEffectsOnce(prefix: string, records: Row[]): Promise<void> {
    const faces = await q(
      `SELECT i.external_id, i.user_type, f.source, f.image_sha256, f.is_current, f.captured_at FROM faces f
       JOIN identities i ON i.id = f.identity_id WHERE i.external_id LIKE ? ORDER BY i.external_id, f.captured_at`,
      [`${prefix}-%`],
    );
    const [s1, s2, e1001, e1002new, e1002old, black, vip] = records;
    expect(faces.map((f) => [f.external_id, f.source, Number(f.captured_at), bool(f.is_current), f.image_sha256])).toEqual([
      [`${prefix}-E`, 'stranger-registered', e1001.timestamp, false, sha256(e1001.reg_image as string)],
      [`${prefix}-E`, 'face-library-updated', e1002old.timestamp, false, sha256(e1002old.reg_image as string)],
      [`${prefix}-E`, 'face-library-updated', e1002new.timestamp, true, sha256(e1002new.reg_image as string)],
      [`${prefix}-S1`, 'stranger-registered', s1.timestamp, true, sha256(s1.reg_image as string)],
      [`${prefix}-S2`, 'stranger-registered', s2.timestamp, true, sha256(s2.recognize_face_image as string)],
    ]);
    expect(faces.filter((f) => f.external_id !== `${prefix}-E`).every((f) => f.user_type === 'stranger')).toBe(true);
    const alerts = await q(
      `SELECT rule_name, identity_external_id, occurred_at FROM alerts WHERE identity_external_id LIKE ? ORDER BY rule_name`,
      [`${prefix}-%`],
    );
    expect(alerts.map((a) => [a.rule_name, a.identity_external_id, Number(a.occurred_at)])).toEqual([
      ['Blacklist seen', `${prefix}-B`, black.timestamp],
      ['VIP seen', `${prefix}-V`, vip.timestamp],
    ]);
    // Each alert raised its alert.raised event exactly once.
    expect(await count(`FROM outbox_events WHERE type = 'alert.raised' AND payload LIKE ?`, [`%"identityExternalId":"${prefix}-%`])).toBe(
      2,
    );
  }

  it('SIGKILL after the 200s, before any listener ran: a restart applies every effect exactly once', async () => {
    const records = scenario('K1', 1_730_000_000_000);
    // The relay is off, so the kill provably lands before any listener ran.
    const first = await start({ OUTBOX_RELAY_ENABLED: 'false' });
    await postAll(first, records);
    await crash(first);

    expect(await count('FROM recognition_records WHERE identity_external_id LIKE ?', ['K1-%'])).toBe(records.length);
    const events = await count('FROM outbox_events');
    expect(events).toBe(records.length + 5 + 2); // one recorded each, four 1001/1002, one alert each
    expect(await count('FROM outbox_events WHERE processed_at IS NULL')).toBe(events);
    expect(await count('FROM faces')).toBe(0);
    expect(await count('FROM alerts')).toBe(0);

    const second = await start({});
    await waitForRelay();
    await expectEffectsOnce('K1', records);
    // The relay added one alert.raised per alert (blacklist and vip), besides persons' own events.
    expect(await count(`FROM outbox_events WHERE type NOT LIKE 'person.%'`)).toBe(events + 2);

    // A box that missed the 200s resends everything: nothing changes.
    await postAll(second, records);
    await waitForRelay();
    // Persons' own events (linking the fixtures' shared faces) are not ingest's or the alerts'.
    expect(await count(`FROM outbox_events WHERE type NOT LIKE 'person.%'`)).toBe(events + 2);
    await expectEffectsOnce('K1', records);
    await crash(second);
  });

  it('SIGKILL while the relay is mid-way: the restart finishes the job, still exactly once', async () => {
    const records = scenario('K2', 1_740_000_000_000);
    // Short lease so the restarted instance may take over rows the killed one had claimed (PostgreSQL).
    const first = await start({ OUTBOX_LEASE_MS: '1000' });
    await postAll(first, records);
    await crash(first);

    await start({ OUTBOX_LEASE_MS: '1000' });
    await waitForRelay();
    await expectEffectsOnce('K2', records);
    expect(await count('FROM faces')).toBe(10);
    expect(await count('FROM alerts')).toBe(4);
  });
});
