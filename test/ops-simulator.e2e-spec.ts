import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { runSimulation } from '../scripts/simulator/simulation';
import { CALLBACK_PATH, startTestApp, TestApp } from './helpers/test-app';
import { describeDb } from './helpers/test-database';

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
    const rows = await t.dataSource.query('SELECT COUNT(*) AS n, SUM(CASE WHEN has_defects THEN 1 ELSE 0 END) AS d FROM recognition_records');
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
      const [report] = await runSimulation({ url: `http://127.0.0.1:${port}/x`, boxes: 1, rate: 4, duration: 1, batch: 2, drain: 20, seed: 3, sceneWidth: 32 });
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
