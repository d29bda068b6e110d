import { Client } from 'pg';
import { boxRecord } from './helpers/api-client';
import { eventually } from './helpers/eventually';
import { ServerProcess, spawnServer } from './helpers/spawn-server';
import { CALLBACK_PATH } from './helpers/test-app';
import { createTestDatabase, describeDb, testDbKind, TestDatabase } from './helpers/test-database';

/** Cluster workers are a PostgreSQL deployment: on SQLite WEB_CONCURRENCY is ignored (one process owns the file). */
const itPg = testDbKind() === 'postgres' ? it : it.skip;

interface LogLine {
  pid?: number;
  worker?: number | string;
  workerPid?: number;
  msg?: string;
}

const lines = (s: ServerProcess): LogLine[] =>
  s
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);

/** Worker number -> pid of its latest process, from the primary's "worker N listening" lines. */
function listeningWorkers(s: ServerProcess): Map<number, number> {
  const out = new Map<number, number>();
  for (const l of lines(s)) {
    const m = /^worker (\d+) listening$/.exec(l.msg ?? '');
    if (m && l.workerPid) out.set(Number(m[1]), l.workerPid);
  }
  return out;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describeDb('cluster workers (WEB_CONCURRENCY=2)', () => {
  let db: TestDatabase;
  let server: ServerProcess | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    server?.kill('SIGKILL');
    await db?.drop();
  });

  itPg(
    'share the port; a worker killed with SIGKILL loses no acknowledged record and comes back; SIGTERM stops all',
    async () => {
      server = await spawnServer({ ...db.env, WEB_CONCURRENCY: '2', LOG_LEVEL: 'info' }, 60_000);
      const s = server;
      await eventually(() => listeningWorkers(s).size === 2, 'both workers to listen', 30_000);
      const first = listeningWorkers(s);
      // The primary migrated once, before forking: no worker ran migrations.
      expect(lines(s).filter((l) => /migration/i.test(l.msg ?? '') && l.worker !== 'primary')).toEqual([]);

      let t = 1_760_000_000_000;
      const acknowledged = new Set<number>();
      /** Pushes like a box: resends until answered 200 (a push cut off with its worker gets a connection error). */
      const pushOne = async (timestamp: number): Promise<void> => {
        const body = JSON.stringify(boxRecord({ box: 'BOX-CLUSTER', identity: `p-${timestamp % 5}`, timestamp }));
        for (let attempt = 0; attempt < 50; attempt++) {
          try {
            // A connection the primary was handing to the worker as it died is left open by Node, unanswered: a box
            // times out and resends, so do we.
            const res = await fetch(`${s.url}${CALLBACK_PATH}`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body,
              signal: AbortSignal.timeout(8_000),
            });
            if (res.status === 200) {
              acknowledged.add(timestamp);
              return;
            }
          } catch {
            // connection reset by the killed worker, or no answer: resend
          }
          await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error(`record ${timestamp} never acknowledged`);
      };
      const burst = (n: number) => Promise.all(Array.from({ length: n }, () => pushOne(++t)));

      await burst(40);
      // Kill one worker while another burst is in flight.
      const victim = first.get(1)!;
      const during = burst(60);
      await new Promise((r) => setTimeout(r, 50));
      process.kill(victim, 'SIGKILL');
      await during;
      await eventually(() => (listeningWorkers(s).get(1) ?? victim) !== victim, 'worker 1 to be restarted', 45_000);
      expect(lines(s).some((l) => l.worker === 'primary' && /^worker 1 exited with signal SIGKILL; restarting/.test(l.msg ?? ''))).toBe(
        true,
      );
      await burst(40);

      // Every acknowledged record is stored exactly once (resent ones deduplicated, none lost with the worker).
      const c = new Client({ connectionString: db.env.DATABASE_URL });
      await c.connect();
      try {
        const rows = (
          await c.query<{ ts: string; n: string }>('SELECT box_timestamp AS ts, COUNT(*) AS n FROM recognition_records GROUP BY 1')
        ).rows;
        expect(rows.filter((r) => Number(r.n) !== 1)).toEqual([]);
        expect(rows.map((r) => Number(r.ts)).sort()).toEqual([...acknowledged].sort());
        expect(acknowledged.size).toBe(140);
      } finally {
        await c.end();
      }

      // /metrics sums the workers; readiness answers.
      const ready = await fetch(`${s.url}/health/ready`);
      expect(ready.status).toBe(200);
      const metrics = await (await fetch(`${s.url}/metrics`)).text();
      expect(metrics).toMatch(/^rh_records_ingested_total\{box="[^"]+"\} \d+/m);

      const workers = [...listeningWorkers(s).values()];
      s.kill('SIGTERM');
      expect(await s.exited).toBe(0);
      expect(workers.filter(alive)).toEqual([]);
      expect(
        lines(s)
          .filter((l) => /shutting down/.test(l.msg ?? ''))
          .map((l) => l.worker),
      ).toEqual(expect.arrayContaining([1, 2]));
    },
    180_000,
  );
});
