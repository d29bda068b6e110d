import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as jpeg from 'jpeg-js';
import { makeBox, makeRecord } from '../scripts/simulator/payloads';
import { runSimulation } from '../scripts/simulator/simulation';
import { CALLBACK_PATH, startTestApp, TestApp } from './helpers/test-app';
import { describeDb, testDbKind } from './helpers/test-database';

describeDb('operations: box simulator', () => {
  let t: TestApp;
  let url: string;

  beforeAll(async () => {
    t = await startTestApp();
    await t.app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}${CALLBACK_PATH}`;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('delivers realistic records that the hub stores, every acknowledged one exactly once', async () => {
    const reports = await runSimulation({ url, boxes: 2, rate: 8, duration: 1, batch: 3, drain: 20, seed: 7, sceneWidth: 96 });
    const acknowledged = reports.reduce((n, r) => n + r.acknowledged, 0);
    expect(acknowledged).toBeGreaterThan(0);
    for (const r of reports) {
      expect(r.pending).toBe(0);
      expect(r.acknowledged).toBe(r.generated);
      expect(r.failures).toEqual({});
    }
    const rows = await t.dataSource.query(
      'SELECT COUNT(*) AS n, SUM(CASE WHEN has_defects THEN 1 ELSE 0 END) AS d FROM recognition_records',
    );
    expect(Number(rows[0].n)).toBe(acknowledged);
    expect(Number(rows[0].d ?? 0)).toBe(0); // well-formed: images decode, features are 512 floats
  });
});

describe('box simulator retries', () => {
  it('retries a refused push with the same records, in order, and moves on only after 200', async () => {
    const seen: number[][] = [];
    let refusals = 2;
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push((JSON.parse(body) as { timestamp: number }[]).map((r) => r.timestamp));
        res.statusCode = refusals-- > 0 ? 503 : 200;
        res.end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as AddressInfo).port;
      const [report] = await runSimulation({
        url: `http://127.0.0.1:${port}/x`,
        boxes: 1,
        rate: 4,
        duration: 1,
        batch: 2,
        drain: 20,
        seed: 3,
        sceneWidth: 32,
      });
      expect(report.failures).toEqual({ 503: 2 });
      expect(report.pending).toBe(0);
      // Like a box re-reading its unsent events, each retry starts again from the oldest unacknowledged one.
      expect(seen[1].slice(0, seen[0].length)).toEqual(seen[0]);
      expect(seen[2].slice(0, seen[0].length)).toEqual(seen[0]);
      const delivered = seen.slice(2).flat();
      expect(delivered).toEqual([...delivered].sort((a, b) => a - b));
      expect(new Set(delivered).size).toBe(report.generated);
    } finally {
      server.close();
    }
  });
});

// No database involved: run once, in the SQLite project.
(testDbKind() === 'sqlite' ? describe : describe.skip)('box simulator records', () => {
  type Row = Record<string, unknown>;
  const decode = (b64: unknown) => jpeg.decode(Buffer.from(String(b64), 'base64'));

  it("look like the vendor's: null attributes, landmarks on the face inside its box, the face crop cut around it", () => {
    const box = makeBox(0, 5);
    for (let i = 0; i < 30; i++) {
      const r = makeRecord(box, 1_700_000_000_000 + i, { sceneWidth: 320 });
      const attr = r.recognize_face_attr as Row;
      for (const k of ['mask', 'gender', 'hat', 'age', 'glasses', 'expression']) expect(attr[k]).toBeNull();
      const [x1, y1, x2, y2] = attr.box as number[];
      const point = attr.point as number[];
      expect(point).toHaveLength(10);
      point.forEach((v, j) => (j % 2 ? expect(v > y1 && v < y2).toBe(true) : expect(v > x1 && v < x2).toBe(true)));
      expect(point[0]).toBeLessThan(point[2]); // left eye left of the right eye, both above the mouth
      expect(point[7]).toBeGreaterThan(point[1]);
      const scene = decode(r.spot_image);
      expect([scene.width, scene.height]).toEqual([320, 180]);
      const face = decode(r.recognize_face_image);
      expect(face.width).toBeGreaterThanOrEqual(x2 - x1);
      expect(face.width).toBeLessThanOrEqual(Math.ceil((x2 - x1) * 1.31) + 1);
      expect(String(r.mq_license_key)).toMatch(/^NAAXWN\d{18}$/);
      expect((r.media_device_info as Row).media_device_id).toMatch(/^[0-9a-f]{32}$/);
      expect(Buffer.from(String(attr.feature_base64_str), 'base64')).toHaveLength(2048);
    }
  });

  it('has people who come back and strangers that each box registers once, under its own id', () => {
    const boxes = [makeBox(0, 9), makeBox(1, 9)];
    const records = Array.from({ length: 120 }, (_, i) => makeRecord(boxes[i % 2], 1_700_000_000_000 + i, { sceneWidth: 32 }));
    const known = records.filter((r) => r.user_type !== 'stranger');
    expect(new Set(known.map((r) => r.identity_id)).size).toBeLessThan(known.length / 2);
    const registrations = records.filter((r) => r.post_action === '1001');
    for (const r of registrations) expect(r.reg_image).toBe(r.recognize_face_image);
    // Per box, a stranger id is registered once and then recognised (0) on later visits.
    const key = (r: Row) => `${String(r.mq_license_key)} ${String(r.identity_id)}`;
    expect(new Set(registrations.map(key)).size).toBe(registrations.length);
    const later = records.filter((r) => r.user_type === 'stranger' && r.post_action === '0');
    expect(later.length).toBeGreaterThan(0);
    for (const r of later) expect(registrations.some((g) => key(g) === key(r) && Number(g.timestamp) < Number(r.timestamp))).toBe(true);
    // The same stranger registered by both boxes: the same face (feature) under two boxes' ids.
    const faceOf = (r: Row) => String((r.recognize_face_attr as Row).box);
    const byFace = new Map<string, Set<string>>();
    for (const r of registrations) byFace.set(faceOf(r), (byFace.get(faceOf(r)) ?? new Set()).add(String(r.mq_license_key)));
    expect([...byFace.values()].some((s) => s.size === 2)).toBe(true);
  });

  it('a face-library update (1002) brings a new registered photo', () => {
    const box = makeBox(0, 4);
    const before = makeRecord(box, 1_700_000_000_000, { kind: 'known', who: 2, sceneWidth: 32 });
    const update = makeRecord(box, 1_700_000_000_001, { kind: 'face-update', who: 2, sceneWidth: 32 });
    const after = makeRecord(box, 1_700_000_000_002, { kind: 'known', who: 2, sceneWidth: 32 });
    expect(update.post_action).toBe('1002');
    expect(update.reg_image).not.toBe(before.reg_image);
    expect(after.reg_image).toBe(update.reg_image);
  });

  it('generates exactly rate x duration records per box', async () => {
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.end('{}'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as AddressInfo).port;
      const reports = await runSimulation({
        url: `http://127.0.0.1:${port}/x`,
        boxes: 3,
        rate: 5,
        duration: 1.2,
        batch: 1,
        // Only a bound: the run ends as soon as every record is acknowledged (a loaded machine renders slowly).
        drain: 60,
        seed: 2,
        sceneWidth: 32,
      });
      expect(reports.map((r) => [r.generated, r.acknowledged])).toEqual([
        [6, 6],
        [6, 6],
        [6, 6],
      ]);
    } finally {
      server.close();
    }
  });
});
