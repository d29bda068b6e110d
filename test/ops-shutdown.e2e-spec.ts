import * as http from 'node:http';
import { DataSource } from 'typeorm';
import { maskLicenseKey } from '../src/logging/redact';
import { makeBox, makeRecord } from '../scripts/simulator/payloads';
import { CALLBACK_PATH } from './helpers/test-app';
import { spawnServer } from './helpers/spawn-server';
import { createTestDatabase, describeDb, openDataSource, TestDatabase } from './helpers/test-database';

interface Upload {
  /** Resolves once the server has read the headers (100 Continue): the request is in flight. */
  started: Promise<void>;
  finish(): void;
  status: Promise<number>;
}

/** A POST whose body is held back until finish(), so it is provably in flight when the signal lands. */
function upload(port: number, body: string): Upload {
  let started!: () => void;
  const startedP = new Promise<void>((r) => (started = r));
  const req = http.request({
    host: '127.0.0.1',
    port,
    path: CALLBACK_PATH,
    method: 'POST',
    agent: false,
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), expect: '100-continue' },
  });
  req.on('continue', () => started());
  const status = new Promise<number>((resolve, reject) => {
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
  });
  req.flushHeaders();
  return { started: startedP, finish: () => req.end(body), status };
}

describeDb('operations: graceful shutdown', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('on SIGTERM answers all 10 uploads in flight, stores them, drains the outbox and exits 0', async () => {
    const server = await spawnServer({ ...db.env, LOG_LEVEL: 'info' });
    const box = makeBox(0, 21, { identities: 4 });
    const records = Array.from({ length: 10 }, (_, i) => makeRecord(box, Date.now() - 10_000 + i, { sceneWidth: 160 }));
    records[0].user_type = 'blacklist'; // its alert is logged, naming the box
    const uploads = records.map((r) => upload(server.port, JSON.stringify(r)));
    await Promise.all(uploads.map((u) => u.started));

    server.kill('SIGTERM');
    // New connections are refused once the listener has closed; the ones in flight still finish.
    for (const u of uploads) u.finish();
    expect(await Promise.all(uploads.map((u) => u.status))).toEqual(Array(10).fill(200));
    expect(await server.exited).toBe(0);

    const ds = await openDataSource(db);
    try {
      const stored = await ds.query('SELECT occurred_at FROM recognition_records');
      expect(stored.map((r: { occurred_at: unknown }) => Number(r.occurred_at)).sort()).toEqual(records.map((r) => r.timestamp).sort());
      const unrelayed = await ds.query('SELECT id FROM outbox_events WHERE processed_at IS NULL');
      expect(unrelayed).toEqual([]);
    } finally {
      await ds.destroy();
    }

    // Logs: JSON lines with request ids, never a whole license key, an image or a feature.
    const lines = server
      .output()
      .split('\n')
      .filter((l) => l.trim());
    const entries = lines.map((l) => JSON.parse(l) as { req?: { id?: string }; msg?: string });
    expect(entries.filter((e) => e.req?.id && e.msg === 'request completed')).toHaveLength(10);
    const output = server.output();
    expect(output).not.toContain(box.licenseKey);
    expect(output).toContain(maskLicenseKey(box.licenseKey));
    expect(output).not.toContain(String(records[0].spot_image).slice(0, 40));
    expect(output).not.toContain((records[0].recognize_face_attr as { feature_base64_str: string }).feature_base64_str.slice(0, 40));
  });
});
