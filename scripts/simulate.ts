import { parseArgs } from 'node:util';
import { runSimulation } from './simulator/simulation';

const USAGE = `usage: npm run simulate -- [--url URL] [--boxes N] [--rate R] [--duration S] [--batch B] [--drain S] [--seed S] [--allow-remote]
  --url       hub callback URL (default http://127.0.0.1:3000/box-callbacks/recognition-records)
  --boxes     simulated boxes (default 2)
  --rate      records per second per box (default 1)
  --duration  seconds of generation (default 10)
  --batch     records per POST, 1..100 (default 1)
  --drain     seconds to keep delivering queued records afterwards (default 10)
  --allow-remote  allow a target that is not on this machine`;

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

async function main(): Promise<void> {
  const { values: a } = parseArgs({
    options: {
      url: { type: 'string', default: 'http://127.0.0.1:3000/box-callbacks/recognition-records' },
      boxes: { type: 'string', default: '2' },
      rate: { type: 'string', default: '1' },
      duration: { type: 'string', default: '10' },
      batch: { type: 'string', default: '1' },
      drain: { type: 'string', default: '10' },
      seed: { type: 'string', default: String(Date.now() % 100000) },
      'allow-remote': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (a.help) return void console.log(USAGE);
  const num = (name: string, v: string, min: number, max: number) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} must be a number from ${min} to ${max}`);
    return n;
  };
  const url = new URL(a.url!);
  if (!LOOPBACK.has(url.hostname) && !a['allow-remote']) {
    throw new Error(`${url.hostname} is not this machine; pass --allow-remote to send simulated records there`);
  }
  const options = {
    url: url.toString(),
    boxes: num('boxes', a.boxes!, 1, 1000),
    rate: num('rate', a.rate!, 0.01, 1000),
    duration: num('duration', a.duration!, 0.1, 86400),
    batch: num('batch', a.batch!, 1, 100),
    drain: num('drain', a.drain!, 0, 3600),
    seed: num('seed', a.seed!, 0, 2 ** 31),
  };
  console.log(`simulating ${options.boxes} box(es), ${options.rate} record/s each for ${options.duration} s -> ${options.url}`);
  const reports = await runSimulation({ ...options, log: (l) => console.log(l) });
  let acked = 0;
  let pending = 0;
  for (const r of reports) {
    acked += r.acknowledged;
    pending += r.pending;
    const failures = Object.entries(r.failures).map(([k, v]) => `${k}x${v}`).join(' ') || 'none';
    console.log(`${r.box}: generated ${r.generated}, acknowledged ${r.acknowledged}, still queued ${r.pending}, failed attempts ${failures}`);
  }
  console.log(`acknowledged ${acked} record(s)${pending ? `, ${pending} still queued (not acknowledged)` : ''}`);
  if (pending) process.exitCode = 2;
}

main().catch((e) => {
  console.error((e as Error).message);
  process.exit(1);
});
