import { DataSource } from 'typeorm';
import { databaseSettings } from '../src/config/app-config.service';
import { buildDataSourceOptions } from '../src/database/data-source-options';
import { entities } from '../src/entities';
import { boxRecord, createApiKey, Json, push } from './helpers/api-client';
import { startTestApp, TestApp } from './helpers/test-app';
import { createTestDatabase, describeDb, TestDatabase, testDbKind } from './helpers/test-database';

/** A unit vector s·e_a + sqrt(1-s²)·e_b: two of them sharing `a` (with distinct b) have cosine s1·s2. */
function face(a: number, s: number, b: number): Float32Array {
  const v = new Float32Array(512);
  v[a] = s;
  v[b] = Math.sqrt(1 - s * s);
  return v;
}

function sighting(identity: string, box: string, v: Float32Array | null, timestamp: number, postAction = '1001'): Json {
  const body = boxRecord({ identity, box, userType: 'stranger', postAction, timestamp });
  const attr = { ...(body.recognize_face_attr as Json) };
  delete attr.feature_binary;
  if (v) attr.feature_base64_str = Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
  else delete attr.feature_base64_str;
  return { ...body, recognize_face_attr: attr };
}

describeDb('persons: identities that are one human, and presence', () => {
  let t: TestApp;
  let admin: string;
  let reader: string;
  const ids: Record<string, string> = {};
  const T0 = 1_790_000_000_000;

  const get = (path: string, key = reader) => t.http().get(path).set('x-api-key', key);
  const post = (path: string, body: Json = {}, key = admin) => t.http().post(path).set('x-api-key', key).send(body);
  const idOf = async (external: string) => {
    const rows: { id: string }[] = await t.dataSource.query(
      `SELECT id FROM identities WHERE external_id = ${t.dataSource.options.type === 'postgres' ? '$1' : '?'}`,
      [external],
    );
    return rows[0].id;
  };
  const personOf = async (external: string) =>
    ((await get(`/identities/${await idOf(external)}`).expect(200)).body as Json).personId as string;
  const events = async (type: string): Promise<Json[]> =>
    (
      (await t.dataSource.query(`SELECT payload FROM outbox_events WHERE type = '${type}' ORDER BY id`)) as { payload: string | Json }[]
    ).map((r) => (typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload) as Json);

  beforeAll(async () => {
    t = await startTestApp({ env: { WEBHOOK_DISPATCH_ENABLED: 'false' } });
    admin = (await createApiKey(t, 'admin')).key;
    reader = (await createApiKey(t, 'reader')).key;
    // x1 and x2: one stranger registered by two boxes (cosine 0.81: linked). y1: cosine 0.45 to them (suggested).
    // z1: someone else. n1: no feature at all.
    await push(t, sighting('x1', 'BOX-A', face(0, 0.9, 10), T0 + 1000));
    await t.drainOutbox();
    await push(t, sighting('x2', 'BOX-B', face(0, 0.9, 11), T0 + 2000));
    await t.drainOutbox();
    await push(t, sighting('y1', 'BOX-C', face(0, 0.5, 12), T0 + 3000));
    await push(t, sighting('z1', 'BOX-C', face(1, 1, 13), T0 + 4000));
    await push(t, sighting('n1', 'BOX-C', null, T0 + 5000));
    await t.drainOutbox();
    for (const x of ['x1', 'x2', 'y1', 'z1', 'n1']) ids[x] = await idOf(x);
  });

  afterAll(async () => {
    await t?.close();
  });

  it('links a second box’s stranger to the first by face (person.identities-linked), and gives identities their personId', async () => {
    const p = await personOf('x1');
    expect(await personOf('x2')).toBe(p);
    expect(await personOf('z1')).not.toBe(p);
    expect(await personOf('n1')).toBe(ids.n1);
    const person = (await get(`/persons/${p}`).expect(200)).body as Json;
    expect(person.identityCount).toBe(2);
    const identities = person.identities as Json[];
    expect(identities.map((i) => i.externalId)).toEqual(['x2', 'x1']);
    expect(identities[0]).toMatchObject({ linkReason: 'face-match', similarity: 0.81 });
    expect(person.firstSeenAt).toBe(T0 + 1000);
    expect(person.lastSeen).toMatchObject({ at: T0 + 2000 });
    // Image links only: no feature, no image bytes anywhere.
    expect(JSON.stringify(person)).not.toMatch(/feature|base64/i);
    const linked = await events('person.identities-linked');
    expect(linked).toEqual([
      {
        link: {
          personId: p,
          identityIds: [ids.x2],
          absorbedPersonIds: [ids.x2],
          similarity: 0.81,
          reason: 'face-match',
          linkedBy: null,
        },
      },
    ]);
    const records = (await get(`/records?personId=${p}`).expect(200)).body as { items: Json[] };
    expect(records.items.map((r) => r.identityExternalId)).toEqual(['x2', 'x1']);
    expect(((await get(`/records?personId=${ids.n1}`).expect(200)).body as { items: Json[] }).items).toHaveLength(1);
    expect(((await get(`/records?personId=00000000-0000-4000-8000-000000000000`).expect(200)).body as { items: Json[] }).items).toEqual([]);
  });

  it('lists persons most recently seen first, with cursor pages and filters', async () => {
    const all = (await get('/persons?limit=2').expect(200)).body as { items: Json[]; nextCursor: string };
    expect(all.items.map((p) => p.lastSeenAt)).toEqual([T0 + 5000, T0 + 4000]);
    const rest = (await get(`/persons?limit=2&cursor=${all.nextCursor}`).expect(200)).body as { items: Json[]; nextCursor: string | null };
    expect(rest.items.map((p) => p.lastSeenAt)).toEqual([T0 + 3000, T0 + 2000]);
    expect(rest.nextCursor).toBeNull();
    const boxA = (await t.dataSource.query(`SELECT id FROM boxes WHERE license_key = 'BOX-A'`)) as { id: string }[];
    const atA = (await get(`/persons?boxId=${boxA[0].id}`).expect(200)).body as { items: Json[] };
    expect(atA.items.map((p) => p.id)).toEqual([await personOf('x1')]);
    expect(((await get('/persons?userType=vip').expect(200)).body as { items: Json[] }).items).toEqual([]);
    await get('/persons?cursor=nope').expect(400);
    await get('/persons?boxId=nope').expect(400);
  });

  it('answers presence: persons seen since a time, newest sighting each, filters and pages', async () => {
    const all = (await get(`/presence?since=${T0 + 1500}`).expect(200)).body as { items: Json[] };
    expect(all.items.map((i) => [i.personId, (i.sighting as Json).at])).toEqual([
      [ids.n1, T0 + 5000],
      [ids.z1, T0 + 4000],
      [ids.y1, T0 + 3000],
      [await personOf('x1'), T0 + 2000],
    ]);
    const boxA = (await t.dataSource.query(`SELECT id FROM boxes WHERE license_key = 'BOX-A'`)) as { id: string }[];
    const atA = (await get(`/presence?since=${T0}&boxId=${boxA[0].id}`).expect(200)).body as { items: Json[] };
    expect(atA.items.map((i) => [i.identityId, (i.sighting as Json).at])).toEqual([[ids.x1, T0 + 1000]]);
    const page = (await get(`/presence?since=${T0}&limit=3`).expect(200)).body as { items: Json[]; nextCursor: string };
    const next = (await get(`/presence?since=${T0}&limit=3&cursor=${page.nextCursor}`).expect(200)).body as { items: Json[] };
    expect(next.items.map((i) => i.personId)).toEqual([await personOf('x1')]);
    expect(((await get(`/presence?since=${T0 + 6000}`).expect(200)).body as { items: Json[] }).items).toEqual([]);
    await get('/presence?since=yesterday').expect(400);
    await get('/presence?mediaDeviceId=1').expect(400);
  });

  it('suggests a weaker match to an operator, who rejects it (audited, person.suggestion-rejected)', async () => {
    const p = await personOf('x1');
    const list = (await get(`/persons/${p}/suggestions`).expect(200)).body as { items: Json[] };
    expect(list.items).toHaveLength(1);
    expect(list.items[0]).toMatchObject({ identityId: ids.y1, similarity: 0.45, status: 'pending' });
    expect(await events('person.link-suggested')).toHaveLength(1);
    const sid = list.items[0].id as string;
    await post(`/persons/${p}/suggestions/${sid}/reject`, {}, reader).expect(403);
    const after = (await post(`/persons/${p}/suggestions/${sid}/reject`).expect(200)).body as { items: Json[] };
    expect(after.items[0]).toMatchObject({ status: 'rejected', decidedBy: expect.any(String) });
    await post(`/persons/${p}/suggestions/${sid}/reject`).expect(200); // again: no change, no second event
    expect(await events('person.suggestion-rejected')).toHaveLength(1);
    const trail = (await get(`/audit-log?action=person.suggestion-rejected`, admin).expect(200)).body as { items: Json[] };
    expect(trail.items).toHaveLength(1);
    await post(`/persons/${p}/suggestions/00000000-0000-4000-8000-000000000000/reject`).expect(404);
    await post(`/persons/${p}/suggestions/nope/reject`).expect(400);
  });

  it('unlinks (audited); the pair is never linked again automatically, even when the face is seen anew', async () => {
    const p = await personOf('x1');
    await post(`/persons/${p}/unlink`, { identityId: ids.x2 }, reader).expect(403);
    const res = (await post(`/persons/${p}/unlink`, { identityId: ids.x2 }).expect(200)).body as Json;
    expect((res.identities as Json[]).map((i) => i.externalId)).toEqual(['x1']);
    const own = await personOf('x2');
    expect(own).not.toBe(p);
    expect(await events('person.identity-unlinked')).toEqual([
      { unlink: { personId: p, identityId: ids.x2, newPersonId: own, unlinkedBy: expect.any(String) } },
    ]);
    // Erasure clears x2's first face; its next face is compared again, but x1 is out of bounds for it.
    const hasFace = async () =>
      Number(
        (
          (await t.dataSource.query(
            `SELECT CASE WHEN feature IS NULL THEN 0 ELSE 1 END AS f FROM person_identities WHERE identity_id = '${ids.x2}'`,
          )) as { f: number | string }[]
        )[0].f,
      );
    expect(await hasFace()).toBe(1);
    await post(`/identities/${ids.x2}/erasure`).expect(200);
    expect(await hasFace()).toBe(0);
    await push(t, sighting('x2', 'BOX-B', face(0, 0.9, 14), T0 + 7000, '1002'));
    await t.drainOutbox();
    expect(await hasFace()).toBe(1); // compared again (cosine 0.81 to x1), and kept apart
    expect(await personOf('x2')).toBe(own);
    // The last identity of a person cannot leave it; one of another person is not there.
    await post(`/persons/${p}/unlink`, { identityId: ids.x1 }).expect(400);
    await post(`/persons/${p}/unlink`, { identityId: ids.z1 }).expect(404);
    const trail = (await get(`/audit-log?action=person.identity-unlinked`, admin).expect(200)).body as { items: Json[] };
    expect(trail.items).toHaveLength(1);
  });

  it('links by an operator (audited, lifting the earlier unlink), with 400s and 404s for bad requests', async () => {
    const p = await personOf('x1');
    const res = (await post(`/persons/${p}/link`, { identityId: ids.x2 }).expect(200)).body as Json;
    expect((res.identities as Json[]).map((i) => i.externalId).sort()).toEqual(['x1', 'x2']);
    expect(await personOf('x2')).toBe(p);
    const last = (await events('person.identities-linked')).pop()!;
    expect(last.link).toMatchObject({ personId: p, identityIds: [ids.x2], reason: 'operator' });
    await post(`/persons/${p}/link`, {}).expect(400);
    await post(`/persons/${p}/link`, { identityId: 'nope' }).expect(400);
    await post(`/persons/${p}/link`, { identityId: '00000000-0000-4000-8000-000000000000' }).expect(404);
    await post(`/persons/00000000-0000-4000-8000-000000000000/link`, { identityId: ids.x2 }).expect(404);
    await get(`/persons/00000000-0000-4000-8000-000000000000`).expect(404);
    await get(`/persons/00000000-0000-4000-8000-000000000000/suggestions`).expect(404);
    await get(`/persons/nope`).expect(400);
    await t.http().get('/persons').expect(401);
    const trail = (await get(`/audit-log?action=person.identity-linked`, admin).expect(200)).body as { items: Json[] };
    expect(trail.items).toHaveLength(1);
  });

  it('keeps persons consistent when identities are merged', async () => {
    const p = await personOf('x1');
    await post(`/identities/${ids.z1}/merge-into`, { targetId: ids.x1 }).expect(200);
    await t.drainOutbox();
    await get(`/persons/${ids.z1}`).expect(404);
    const person = (await get(`/persons/${p}`).expect(200)).body as Json;
    expect((person.identities as Json[]).map((i) => i.externalId).sort()).toEqual(['x1', 'x2']);
    const records = (await get(`/records?personId=${p}`).expect(200)).body as { items: Json[] };
    expect(records.items.map((r) => r.identityExternalId).sort()).toEqual(['x1', 'x2', 'x2', 'z1']);
    expect((await events('person.identities-linked')).pop()!.link).toMatchObject({
      personId: p,
      identityIds: [],
      absorbedPersonIds: [ids.z1],
      reason: 'identity-merge',
    });
    const presence = (await get(`/presence?since=${T0}`).expect(200)).body as { items: Json[] };
    expect(presence.items.map((i) => i.personId)).not.toContain(ids.z1);
  });
});

describeDb('persons: a relay batch of sightings', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { OUTBOX_RELAY_ENABLED: 'false', WEBHOOK_DISPATCH_ENABLED: 'false' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('keeps the earliest first and the newest last sighting whatever the order of the records in a batch', async () => {
    const T = 1_795_000_000_000;
    const seen = (identity: string, device: string, at: number) =>
      push(t, { ...boxRecord({ identity, box: 'BOX-S', device, timestamp: at }), recognize_face_attr: { box: [1, 2, 3, 4] } });
    // Out of time order, two devices, two identities: relayed as one batch.
    await seen('w1', 'cam-1', T + 9000);
    await seen('w1', 'cam-1', T + 7000);
    await seen('w1', 'cam-2', T + 6000);
    await seen('w2', 'cam-2', T + 5000);
    await seen('w1', 'cam-1', T + 8000);
    await t.drainOutbox();
    const rows = async (sql: string) => (await t.dataSource.query(sql)) as Json[];
    const sightings = async () =>
      (
        await rows(
          `SELECT i.external_id, s.media_device_id, s.first_seen_at, s.last_seen_at, r.occurred_at AS last_record_at
           FROM identity_sightings s JOIN identities i ON i.id = s.identity_id JOIN recognition_records r ON r.id = s.last_record_id
           ORDER BY i.external_id, s.first_seen_at`,
        )
      ).map((r) => [r.external_id, Number(r.first_seen_at) - T, Number(r.last_seen_at) - T, Number(r.last_record_at) - T]);
    expect(await sightings()).toEqual([
      ['w1', 6000, 6000, 6000],
      ['w1', 7000, 9000, 9000],
      ['w2', 5000, 5000, 5000],
    ]);
    const persons = async () =>
      (
        await rows(
          `SELECT i.external_id, p.first_seen_at, p.last_seen_at, r.occurred_at AS last_record_at FROM persons p
           JOIN person_identities pi ON pi.person_id = p.id JOIN identities i ON i.id = pi.identity_id
           JOIN recognition_records r ON r.id = p.last_record_id ORDER BY i.external_id`,
        )
      ).map((r) => [r.external_id, Number(r.first_seen_at) - T, Number(r.last_seen_at) - T, Number(r.last_record_at) - T]);
    expect(await persons()).toEqual([
      ['w1', 6000, 9000, 9000],
      ['w2', 5000, 5000, 5000],
    ]);
    // An older record later: only the first sighting moves.
    await seen('w1', 'cam-1', T + 1000);
    await t.drainOutbox();
    expect(await persons()).toEqual([
      ['w1', 1000, 9000, 9000],
      ['w2', 5000, 5000, 5000],
    ]);
    expect((await sightings())[0]).toEqual(['w1', 1000, 9000, 9000]);
  });

  it('takes a new identity’s first face from its first record in a batch that has one, and reads nothing more for the rest', async () => {
    const T = 1_796_000_000_000;
    const at = (a: number, dt: number) => sighting('v1', 'BOX-V', face(a, 1, 30 + a), T + dt, '0');
    await push(t, [sighting('v1', 'BOX-V', null, T + 1000, '0'), at(2, 2000), at(3, 3000), at(4, 4000)]);
    let faceReads = 0;
    const query = t.dataSource.query.bind(t.dataSource);
    const spy = jest.spyOn(t.dataSource, 'query').mockImplementation((sql: string, ...rest) => {
      if (sql.includes('AS feature_set FROM person_identities WHERE identity_id =')) faceReads++;
      return query(sql, ...rest);
    });
    try {
      await t.drainOutbox();
    } finally {
      spy.mockRestore();
    }
    const [row] = (await t.dataSource.query(
      `SELECT pi.feature FROM person_identities pi JOIN identities i ON i.id = pi.identity_id WHERE i.external_id = 'v1'`,
    )) as { feature: Buffer }[];
    const v = new Float32Array(new Uint8Array(row.feature).buffer);
    // The record without a feature gave none; the next one did; the two after it were not even read.
    expect(v.indexOf(Math.max(...v))).toBe(2);
    expect(faceReads).toBe(1);
  });
});

describeDb('migration Persons', () => {
  let db: TestDatabase;

  afterAll(async () => {
    await db?.drop();
  });

  it('makes one person per live identity, with its sightings and first face vector', async () => {
    const f = (x: number) => Buffer.from(new Float32Array(512).fill(x).buffer);
    db = await createTestDatabase();
    const options = buildDataSourceOptions(databaseSettings(db.env.DATABASE_URL, db.dataDir, undefined, 2), entities);
    const all = options.migrations as { name: string }[];
    const at = all.findIndex((m) => m.name === 'Persons1765100000000');
    const before = new DataSource({ ...options, migrations: all.slice(0, at) } as typeof options);
    await before.initialize();
    const pg = before.options.type === 'postgres';
    const p = (n: number) => (pg ? `$${n}` : '?');
    try {
      await before.runMigrations();
      const yes = pg ? 'true' : '1';
      await before.query(`INSERT INTO boxes (id, license_key, enabled, first_seen_at, last_seen_at) VALUES ('b1', 'K', ${yes}, 1, 1)`);
      for (const m of ['m1', 'm2'])
        await before.query(
          `INSERT INTO media_devices (id, box_id, device_id, first_seen_at, last_seen_at) VALUES ('${m}', 'b1', '${m}', 1, 1)`,
        );
      for (const [id, merged] of [
        ['i1', null],
        ['i2', null],
        ['i3', 'i1'],
      ])
        await before.query(
          `INSERT INTO identities (id, external_id, first_seen_at, last_seen_at, updated_at, merged_into_id) VALUES (${p(1)}, ${p(2)}, 1, 1, 1, ${p(3)})`,
          [id, `x-${id}`, merged],
        );
      const records: [string, string, string, number, Buffer | null][] = [
        ['r1', 'i1', 'm1', 1000, f(1)],
        ['r2', 'i1', 'm1', 3000, f(2)],
        ['r3', 'i1', 'm2', 2000, null],
        ['r4', 'i2', 'm2', 500, Buffer.alloc(10)],
      ];
      for (const [id, identity, device, at, feature] of records)
        await before.query(
          `INSERT INTO recognition_records (id, box_id, media_device_id, device_external_id, identity_id, identity_external_id, occurred_at,
             box_timestamp, feature, user_type, defects, received_at)
           VALUES (${p(1)}, 'b1', ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)}, ${p(8)}, 'stranger', '[]', 1)`,
          [id, device, device, identity, `x-${identity}`, at, at, feature],
        );
    } finally {
      await before.destroy();
    }

    const after = new DataSource({ ...options, migrations: all.slice(0, at + 1) } as typeof options);
    await after.initialize();
    try {
      await after.runMigrations();
      const persons = await after.query(
        'SELECT id, first_seen_at, last_seen_at, last_record_id, last_media_device_id FROM persons ORDER BY id',
      );
      expect(
        persons.map((r: Json) => [r.id, Number(r.first_seen_at), Number(r.last_seen_at), r.last_record_id, r.last_media_device_id]),
      ).toEqual([
        ['i1', 1000, 3000, 'r2', 'm1'],
        ['i2', 500, 500, 'r4', 'm2'],
      ]);
      const members = await after.query('SELECT identity_id, person_id, feature, ref_seq FROM person_identities ORDER BY identity_id');
      expect(members.map((r: Json) => [r.identity_id, r.person_id, r.ref_seq === null ? null : Number(r.ref_seq)])).toEqual([
        ['i1', 'i1', 1],
        ['i2', 'i2', null], // its only feature is malformed
      ]);
      expect(Buffer.from(members[0].feature as Buffer).equals(f(1))).toBe(true); // the first record's, not the newest
      const sightings = await after.query(
        'SELECT identity_id, media_device_id, first_seen_at, last_seen_at, last_record_id FROM identity_sightings ORDER BY identity_id, media_device_id',
      );
      expect(
        sightings.map((r: Json) => [r.identity_id, r.media_device_id, Number(r.first_seen_at), Number(r.last_seen_at), r.last_record_id]),
      ).toEqual([
        ['i1', 'm1', 1000, 3000, 'r2'],
        ['i1', 'm2', 2000, 2000, 'r3'],
        ['i2', 'm2', 500, 500, 'r4'],
      ]);
      await after.undoLastMigration();
      expect(Number((await after.query('SELECT COUNT(*) AS n FROM identities'))[0].n)).toBe(3);
    } finally {
      await after.destroy();
    }
  });
});

describeDb('persons: two instances on one PostgreSQL', () => {
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    if (testDbKind() !== 'postgres') return;
    // Relays off: each test pass says which instance handles the events.
    a = await startTestApp({ env: { OUTBOX_RELAY_ENABLED: 'false', WEBHOOK_DISPATCH_ENABLED: 'false' } });
    b = await startTestApp({ db: a.db, env: { OUTBOX_RELAY_ENABLED: 'false', WEBHOOK_DISPATCH_ENABLED: 'false' } });
  });

  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('links by faces that the other instance stored (each keeps its face matrix up to date from the database)', async () => {
    if (testDbKind() !== 'postgres') return; // one process per SQLite file
    await push(a, sighting('m1', 'BOX-A', face(3, 0.9, 30), 1_790_000_001_000));
    await a.drainOutbox();
    await push(a, sighting('m2', 'BOX-B', face(3, 0.9, 31), 1_790_000_002_000));
    await b.drainOutbox(); // b has never seen a face: it reads m1's from the database
    await push(b, sighting('m3', 'BOX-C', face(3, 0.9, 32), 1_790_000_003_000));
    await a.drainOutbox(); // a read m1 before; it picks up m2's (stored by b) incrementally
    const persons: { person_id: string }[] = await a.dataSource.query(
      `SELECT DISTINCT pi.person_id FROM person_identities pi JOIN identities i ON i.id = pi.identity_id WHERE i.external_id IN ('m1', 'm2', 'm3')`,
    );
    expect(persons).toHaveLength(1);
    const linked: { n: string }[] = await a.dataSource.query(
      `SELECT COUNT(*) AS n FROM outbox_events WHERE type = 'person.identities-linked'`,
    );
    expect(Number(linked[0].n)).toBe(2);
  });
});
