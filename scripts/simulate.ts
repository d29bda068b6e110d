import { parseStrict, UsageError } from '../src/common/command-line';
import { runSimulation, SimulationOptions } from './simulator/simulation';

const USAGE = `usage: npm run simulate -- [--url URL] [--boxes N] [--rate R] [--duration S] [--batch B] [--drain S] [--seed S] [--allow-remote]
  --url       hub callback URL (default http://127.0.0.1:3000/box-callbacks/recognition-records)
  --boxes     simulated boxes (default 2)
  --rate      records per second per box (default 1)
  --duration  seconds of generation (default 10)
  --batch     records per POST, 1..100 (default 1)
  --drain     seconds to keep delivering queued records afterwards (default 10)
  --seed      seed of the generated records (default: from the clock)
  --allow-remote  allow a target that is not on this machine`;

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** The simulation the command line asks for, or 'help'; a UsageError names what is wrong with it. */
export function simulatorOptions(argv: string[]): Omit<SimulationOptions, 'log'> | 'help' {
  const { values: a } = parseStrict({
    args: argv,
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
  if (a.help) return 'help';
  const num = (name: string, v: string, min: number, max: number) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max)
      throw new UsageError(`--${name} must be a number from ${min} to ${max}`);
    return n;
  };
  let url: URL;
  try {
    url = new URL(a.url);
  } catch {
    throw new UsageError(`--url is not a URL: ${a.url}`);
  }
  if (!LOOPBACK.has(url.hostname) && !a['allow-remote']) {
    throw new UsageError(`${url.hostname} is not this machine; pass --allow-remote to send simulated records there`);
  }
  return {
    url: url.toString(),
    boxes: num('boxes', a.boxes, 1, 1000),
    rate: num('rate', a.rate, 0.01, 1000),
    duration: num('duration', a.duration, 0.1, 86400),
    batch: num('batch', a.batch, 1, 100),
    drain: num('drain', a.drain, 0, 3600),
    seed: num('seed', a.seed, 0, 2 ** 31),
  };
}

async function main(): Promise<void> {
  let options: ReturnType<typeof simulatorOptions>;
  try {
    options = simulatorOptions(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`simulate: ${e.message} (see npm run simulate -- --help)`);
    process.exit(1);
  }
  if (options === 'help') return void console.log(USAGE);
  console.log(`simulating ${options.boxes} box(es), ${options.rate} record/s each for ${options.duration} s -> ${options.url}`);
  const reports = await runSimulation({ ...options, log: (l) => console.log(l) });
  let acked = 0;
  let pending = 0;
  for (const r of reports) {
    acked += r.acknowledged;
    pending += r.pending;
    const failures =
      Object.entries(r.failures)
        .map(([k, v]) => `${k}x${v}`)
        .join(' ') || 'none';
    console.log(
      `${r.box}: generated ${r.generated}, acknowledged ${r.acknowledged}, still queued ${r.pending}, failed attempts ${failures}`,
    );
  }
  console.log(`acknowledged ${acked} record(s)${pending ? `, ${pending} still queued (not acknowledged)` : ''}`);
  if (pending) process.exitCode = 2;
}

if (require.main === module) {
  main().catch((e) => {
    console.error((e as Error).message);
    process.exit(1);
  });
}
