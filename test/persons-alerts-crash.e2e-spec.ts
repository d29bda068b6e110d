import { DataSource } from 'typeorm';
import { boxRecord, Json } from './helpers/api-client';
import { eventually } from './helpers/eventually';
import { ServerProcess, spawnServer } from './helpers/spawn-server';
import { CALLBACK_PATH } from './helpers/test-app';
import { createTestDatabase, describeDb, openDataSource, queryRows, TestDatabase } from './helpers/test-database';
import { featureBase64, syntheticFaces } from './helpers/synthetic-faces';

type Row = Record<string, unknown>;

const ADMIN = 'persons-alerts-crash-admin-key-0123456789';
const T = 1_770_000_000_000;
const HUMANS = 6;
const BOXES = 3;
const SIGHTINGS = 4;
const COOLDOWN_S = 25;

const faces = syntheticFaces(42);
const centres = faces.centres(HUMANS);
/** Small noise: two sightings of one human have cosine about 0.9 (far above the link threshold); humans about 0. */
const sighting = (c: number[]) => faces.sighting(c, 0.1);
const base64 = featureBase64;

const identityOf = (h: number, b: number) => `PA-H${h}-B${b}`;
/** Visitors (odd humans) raise the no-cooldown rule's alerts, employees the cooldown rule's. */
const userTypeOf = (h: number) => (h % 2 ? 'visitor' : 'employee');

/** Every record of the run, interleaved across humans and boxes as boxes would send them; 10 s apart per camera. */
function allRecords(): Json[] {
  const out: Json[] = [];
  for (let k = 0; k < SIGHTINGS; k++)
    for (let h = 0; h < HUMANS; h++)
      for (let b = 0; b < BOXES; b++) {
        const r = boxRecord({
          box: `PA-BOX-${b}`,
          device: 'cam-1',
          identity: identityOf(h, b),
          userType: userTypeOf(h),
          timestamp: T + k * 10_000 + h * 100 + b,
        });
        out.push({ ...r, recognize_face_attr: { ...(r.recognize_face_attr as Json), feature_base64_str: base64(sighting(centres[h])) } });
      }
  return out;
}

/**
 * kill -9 while the outbox relay runs the persons listener (linking identities by first face, in transactions with
 * their person.* events) and the alerts listener (alerts with their alert.raised events): after the restarts every
 * record event is handled, linking ends as without a crash, and each alert and outbox event exists once.
 */
describeDb('persons and alerts survive kill -9 mid-way', () => {
  let db: TestDatabase;
  let ds: DataSource | undefined;
  let server: ServerProcess | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    server?.kill('SIGKILL');
    await server?.exited;
    await ds?.destroy();
    await db?.drop();
  });

  const start = async (env: Record<string, string> = {}) => {
    // Small batches and a short lease: the kill lands between batches and inside one, and a restarted instance takes
    // over rows the killed one had claimed (PostgreSQL).
    server = await spawnServer({
      ...db.env,
      ADMIN_API_KEY: ADMIN,
      OUTBOX_POLL_INTERVAL_MS: '50',
      OUTBOX_LEASE_MS: '1000',
      OUTBOX_BATCH_SIZE: '5',
      ...env,
    });
    if (!ds) {
      ds = await openDataSource(db);
    }
    return server;
  };
  const q = (sql: string, params: unknown[] = []): Promise<Row[]> => queryRows(ds!, sql, params);
  const count = async (sql: string, params: unknown[] = []) => Number((await q(`SELECT COUNT(*) AS n ${sql}`, params))[0].n);
  const api = async (method: string, p: string, body?: Json) => {
    const res = await fetch(server!.url + p, {
      method,
      headers: { 'x-api-key': ADMIN, 'content-type': 'application/json' },
      body: body && JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Json };
  };
  const kill = async () => {
    server!.kill('SIGKILL');
    expect(await server!.exited).toBe('SIGKILL');
    server = undefined;
  };

  it('every record event handled once: one alert per (rule, record), identities linked as without a crash, no duplicate event', async () => {
    // Rules first, with the relay off: the kill then lands provably before any listener ran on these records.
    // Built first: the fixtures are generated on first use, which may take seconds on a loaded machine.
    const records = allRecords();
    await start({ OUTBOX_RELAY_ENABLED: 'false' });
    const visitors = await api('POST', '/alert-rules', { name: 'PA visitors', severity: 'warning', userTypes: ['visitor'] });
    const loiter = await api('POST', '/alert-rules', {
      name: 'PA employees',
      severity: 'info',
      userTypes: ['employee'],
      cooldownSeconds: COOLDOWN_S,
    });
    expect([visitors.status, loiter.status]).toEqual([201, 201]);
    for (let i = 0; i < records.length; i += 20) {
      const res = await fetch(server!.url + CALLBACK_PATH, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(records.slice(i, i + 20)),
      });
      expect(res.status).toBe(200);
    }
    await kill();
    const recorded = await count(`FROM outbox_events WHERE type = 'recognition.recorded'`);
    expect(recorded).toBe(records.length);

    // The relay gets part of the way (some person links and alerts committed), then kill -9.
    await start();
    const done = await eventually(async () => {
      const n = await count(`FROM outbox_events WHERE type = 'recognition.recorded' AND processed_at IS NOT NULL`);
      return n >= recorded * 0.3 && n;
    }, 'a third of the record events relayed');
    await kill();
    // The kill left work to finish (asserted, or the test proves nothing).
    expect(done).toBeLessThan(recorded);
    expect(await count(`FROM alerts`)).toBeGreaterThan(0);

    await start();
    await eventually(async () => (await count('FROM outbox_events WHERE processed_at IS NULL')) === 0, 'the outbox drained', 60_000);
    // The listeners' own events are relayed too; nothing may fail on the way.
    expect(await count('FROM outbox_events WHERE attempts > 0 AND processed_at IS NULL')).toBe(0);

    // Persons: the identities of one human are one person, and humans are different persons.
    const members = await q(
      `SELECT i.external_id, pi.person_id, pi.link_reason FROM person_identities pi JOIN identities i ON i.id = pi.identity_id
       WHERE i.external_id LIKE 'PA-%'`,
    );
    const personOf = new Map(members.map((m) => [m.external_id as string, m.person_id as string]));
    expect(personOf.size).toBe(HUMANS * BOXES);
    for (let h = 0; h < HUMANS; h++) {
      expect(new Set(Array.from({ length: BOXES }, (_, b) => personOf.get(identityOf(h, b)))).size).toBe(1);
    }
    expect(new Set(personOf.values()).size).toBe(HUMANS);
    expect(await count(`FROM persons`)).toBe(HUMANS);
    expect(await count(`FROM person_suggestions`)).toBe(0);

    // Each identity that joined a person was announced once, naming the person it is in.
    const linked = (await q(`SELECT payload FROM outbox_events WHERE type = 'person.identities-linked'`)).map(
      (r) => JSON.parse(r.payload as string) as { link: { personId: string; identityIds: string[] } },
    );
    const joined = linked.flatMap((e) => e.link.identityIds.map((identityId) => ({ identityId, personId: e.link.personId })));
    const identityIdOf = new Map(
      (await q(`SELECT id, external_id FROM identities WHERE external_id LIKE 'PA-%'`)).map((r) => [
        r.external_id as string,
        r.id as string,
      ]),
    );
    expect(joined).toHaveLength(HUMANS * (BOXES - 1));
    expect(new Set(joined.map((j) => j.identityId)).size).toBe(joined.length);
    for (const j of joined) {
      const external = [...identityIdOf].find(([, id]) => id === j.identityId)![0];
      expect(personOf.get(external)).toBe(j.personId);
    }
    // Sightings: one per identity and camera, spanning its records exactly (a redelivered sighting counts once).
    const sightings = await q(
      `SELECT i.external_id, s.first_seen_at, s.last_seen_at FROM identity_sightings s JOIN identities i ON i.id = s.identity_id
       WHERE i.external_id LIKE 'PA-%'`,
    );
    expect(sightings).toHaveLength(HUMANS * BOXES);
    for (const s of sightings) {
      const [, h, b] = /^PA-H(\d+)-B(\d+)$/.exec(s.external_id as string)!.map(Number);
      expect([Number(s.first_seen_at), Number(s.last_seen_at)]).toEqual([T + h * 100 + b, T + (SIGHTINGS - 1) * 10_000 + h * 100 + b]);
    }

    // Alerts: the no-cooldown rule raised exactly one per visitor record.
    const alerts = await q(`SELECT id, rule_id, record_id, cooldown_key, media_device_id, occurred_at FROM alerts`);
    const ofRule = (id: unknown) => alerts.filter((a) => a.rule_id === id);
    const visitorRecords = await q(`SELECT id FROM recognition_records WHERE user_type = 'visitor' AND identity_external_id LIKE 'PA-%'`);
    expect(
      ofRule(visitors.body.id)
        .map((a) => a.record_id)
        .sort(),
    ).toEqual(visitorRecords.map((r) => r.id).sort());
    // The cooldown rule: never two alerts of one key at one camera within the cooldown, and each camera of each
    // employee identity alerted at least once.
    const cooled = ofRule(loiter.body.id);
    const byKey = new Map<string, number[]>();
    for (const a of cooled) {
      const key = `${a.cooldown_key}|${a.media_device_id}`;
      byKey.set(
        key,
        [...(byKey.get(key) ?? []), Number(a.occurred_at)].sort((x, y) => x - y),
      );
    }
    for (const times of byKey.values())
      for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBeGreaterThanOrEqual(COOLDOWN_S * 1000);
    const employeeCameras = await q(
      `SELECT DISTINCT identity_id, media_device_id FROM recognition_records WHERE user_type = 'employee' AND identity_external_id LIKE 'PA-%'`,
    );
    const alertedCameras = new Set(
      (
        await q(
          `SELECT r.identity_id, r.media_device_id FROM alerts a JOIN recognition_records r ON r.id = a.record_id WHERE a.rule_id = ?`,
          [loiter.body.id],
        )
      ).map((r) => `${r.identity_id}|${r.media_device_id}`),
    );
    for (const c of employeeCameras) expect(alertedCameras).toContain(`${c.identity_id}|${c.media_device_id}`);
    expect(new Set(alerts.map((a) => `${a.rule_id}|${a.record_id}`)).size).toBe(alerts.length);

    // One alert.raised per alert: a redelivered record event raised nothing twice.
    const raised = (await q(`SELECT payload FROM outbox_events WHERE type = 'alert.raised'`)).map(
      (r) => (JSON.parse(r.payload as string) as { alert: { alertId: string } }).alert.alertId,
    );
    expect(raised.sort()).toEqual(alerts.map((a) => a.id).sort());
  });
});
