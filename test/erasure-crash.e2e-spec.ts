import * as fs from 'node:fs';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { makeBox, makeRecord } from '../scripts/simulator/payloads';
import { ServerProcess, spawnServer } from './helpers/spawn-server';
import { CALLBACK_PATH } from './helpers/test-app';
import { createTestDatabase, describeDb, openDataSource, queryRows, TestDatabase } from './helpers/test-database';

type Row = Record<string, unknown>;

const ADMIN = 'erasure-crash-admin-key-0123456789abcdef';
const IMAGE_COLUMNS = ['reg_image_sha256', 'spot_image_sha256', 'ir_image_sha256', 'face_image_sha256'];
const BIOMETRIC_COLUMNS = [...IMAGE_COLUMNS, 'feature', 'landmarks'];
const ERASED = 30;

/** Every file under the image directory, quarantine included (names are sha256). */
function filesIn(dir: string): Set<string> {
  const out = new Set<string>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name));
      else if (/^[0-9a-f]{64}$/.test(e.name)) out.add(e.name);
    }
  };
  walk(dir);
  return out;
}

describeDb('erasure survives a crash between its batches', () => {
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

  const start = async () => {
    // One record per erasure transaction, so the kill lands between batches.
    const s = await spawnServer({ ...db.env, ADMIN_API_KEY: ADMIN, RETENTION_BATCH_SIZE: '1', OUTBOX_POLL_INTERVAL_MS: '50' });
    servers.push(s);
    if (!ds) {
      // Opened once the server has migrated the database; reads only.
      ds = await openDataSource(db);
    }
    return s;
  };
  const q = (sql: string, params: unknown[] = []): Promise<Row[]> => queryRows(ds!, sql, params);
  const count = async (sql: string, params: unknown[] = []) => Number((await q(`SELECT COUNT(*) AS n ${sql}`, params))[0].n);
  const erase = (s: ServerProcess, id: string) =>
    fetch(`${s.url}/identities/${id}/erasure`, { method: 'POST', headers: { 'x-api-key': ADMIN } });

  it('killed mid-way, a second erasure after the restart leaves nothing of the identity and removes nothing else', async () => {
    const first = await start();
    const box = makeBox(5, 21, { identities: 2 });
    const t0 = Date.now() - 3_600_000;
    const mine = Array.from(
      { length: ERASED },
      (_, i) => ({ ...makeRecord(box, t0 + i, { sceneWidth: 32, kind: 'known', who: 0 }), identity_id: 'crash-me' }) as Row,
    );
    mine[0].post_action = '1001'; // face library entries, and events carrying image hashes
    mine[ERASED - 1].post_action = '1002';
    const others = Array.from(
      { length: 4 },
      (_, i) => ({ ...makeRecord(box, t0 + 100 + i, { sceneWidth: 32, kind: 'known', who: 1 }) }) as Row,
    );
    others[0].post_action = '1001';
    others[1].spot_image = mine[5].spot_image; // an image the other identity also uses stays
    for (const r of [...mine, ...others]) {
      const res = await fetch(first.url + CALLBACK_PATH, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(r),
      });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    for (let i = 0; (await count('FROM outbox_events WHERE processed_at IS NULL')) > 0; i++) {
      if (i > 200) throw new Error('outbox not relayed');
      await new Promise((r) => setTimeout(r, 50));
    }

    const [{ id: identityId }] = await q("SELECT id FROM identities WHERE external_id = 'crash-me'");
    expect(await count('FROM faces WHERE identity_id = ?', [identityId])).toBe(2);
    const myShas = new Set<string>();
    for (const r of await q('SELECT * FROM recognition_records WHERE identity_id = ?', [identityId]))
      for (const c of IMAGE_COLUMNS) if (r[c]) myShas.add(r[c] as string);
    for (const f of await q('SELECT image_sha256 FROM faces WHERE identity_id = ?', [identityId])) myShas.add(f.image_sha256 as string);
    // What the erasure must not touch: every other record, face and image, as it is now.
    const othersBefore = await q(`SELECT * FROM recognition_records WHERE identity_id <> ? ORDER BY id`, [identityId]);
    const otherFacesBefore = await q('SELECT * FROM faces WHERE identity_id <> ? ORDER BY id', [identityId]);
    const otherShas = new Set<string>();
    for (const r of othersBefore) for (const c of IMAGE_COLUMNS) if (r[c]) otherShas.add(r[c] as string);
    for (const f of otherFacesBefore) otherShas.add(f.image_sha256 as string);
    expect([...otherShas].filter((s) => myShas.has(s)).length).toBe(1);
    const imageDir = path.join(db.dataDir, 'images');
    const kept = (files: Set<string>) => [...files].filter((s) => !myShas.has(s) || otherShas.has(s)).sort();
    const keptBefore = kept(filesIn(imageDir));
    for (const s of otherShas) expect(keptBefore).toContain(s);

    // Erase, and kill the process once some records are cleared and others not.
    const cleared = () => count('FROM recognition_records WHERE identity_id = ? AND feature IS NULL', [identityId]);
    const answer = erase(first, identityId as string).catch(() => null);
    for (;;) {
      const n = await cleared();
      if (n >= 3) break;
      if (await Promise.race([answer.then(() => true), new Promise((r) => setTimeout(() => r(false), 2))])) break;
    }
    first.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    const clearedAtCrash = await cleared();
    expect(clearedAtCrash).toBeGreaterThanOrEqual(3);
    expect(clearedAtCrash).toBeLessThan(ERASED); // the crash did land mid-erasure

    const second = await start();
    const res = await erase(second, identityId as string);
    expect(res.status).toBe(200);
    const report = (await res.json()) as Row;
    expect(report.recordsCleared).toBe(ERASED - clearedAtCrash);

    // Nothing of the identity: no biometric column, no face, no file (also none in quarantine), no index row.
    const after = await q('SELECT * FROM recognition_records WHERE identity_id = ?', [identityId]);
    expect(after).toHaveLength(ERASED);
    for (const r of after) for (const c of BIOMETRIC_COLUMNS) expect(r[c]).toBeNull();
    expect(await count('FROM faces WHERE identity_id = ?', [identityId])).toBe(0);
    const files = filesIn(imageDir);
    const indexed = new Set((await q('SELECT sha256 FROM stored_images')).map((r) => r.sha256 as string));
    const left = [...myShas].filter((s) => !otherShas.has(s) && (files.has(s) || indexed.has(s)));
    expect(left).toEqual([]);
    const payloads = (await q('SELECT payload FROM outbox_events')).map((r) => String(r.payload)).join('\n');
    expect([...myShas].filter((s) => !otherShas.has(s) && payloads.includes(s))).toEqual([]);

    // Nothing else removed: other records, faces and images exactly as before.
    expect(await q(`SELECT * FROM recognition_records WHERE identity_id <> ? ORDER BY id`, [identityId])).toEqual(othersBefore);
    expect(await q('SELECT * FROM faces WHERE identity_id <> ? ORDER BY id', [identityId])).toEqual(otherFacesBefore);
    expect(kept(files)).toEqual(keptBefore);
    for (const s of otherShas) expect(files.has(s) && indexed.has(s)).toBe(true);
    expect(await count("FROM audit_log WHERE action = 'identity.biometrics-erased' AND subject_id = ?", [identityId])).toBe(1);
  });
});
