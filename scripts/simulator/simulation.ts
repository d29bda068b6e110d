import { makeBox, makeRecord, SimulatedBox } from './payloads';

export interface SimulationOptions {
  url: string;
  boxes: number;
  /** Records per second, per box. */
  rate: number;
  /** Seconds of record generation. */
  duration: number;
  /** Records per POST (a box sends up to 100). */
  batch: number;
  /** Seconds allowed after generation stops to deliver what is still queued. */
  drain: number;
  seed: number;
  sceneWidth?: number;
  log?: (line: string) => void;
}

export interface BoxReport {
  box: string;
  generated: number;
  acknowledged: number;
  pending: number;
  attempts: number;
  failures: Record<string, number>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Boxes as the hub sees them: each generates events into its own queue and uploads them oldest first,
 * moving its cursor only on HTTP 200; anything else (or a network error) is retried, in order, after a
 * backoff.
 */
export async function runSimulation(o: SimulationOptions): Promise<BoxReport[]> {
  const boxes = Array.from({ length: o.boxes }, (_, i) => makeBox(i, o.seed));
  // One clock for every box: each generates exactly rate x duration records, due at the same moments,
  // however long another box took to render its first images.
  const started = Date.now();
  const giveUpAt = started + (o.duration + o.drain) * 1000;
  return Promise.all(boxes.map((box) => runBox(box, o, started, giveUpAt)));
}

async function runBox(box: SimulatedBox, o: SimulationOptions, started: number, giveUpAt: number): Promise<BoxReport> {
  const queue: Record<string, unknown>[] = [];
  const report: BoxReport = { box: box.licenseKey, generated: 0, acknowledged: 0, pending: 0, attempts: 0, failures: {} };
  const interval = 1000 / o.rate;
  const total = Math.max(1, Math.ceil(o.duration * o.rate - 1e-9));
  const dueAt = (n: number) => started + n * interval;
  let lastTimestamp = 0;
  let backoff = 0;

  const generateDue = () => {
    while (report.generated < total && dueAt(report.generated) <= Date.now()) {
      // Distinct, increasing event times per box, like the box's own database.
      lastTimestamp = Math.max(lastTimestamp + 1, Math.floor(dueAt(report.generated)));
      queue.push(makeRecord(box, lastTimestamp, { sceneWidth: o.sceneWidth }));
      report.generated++;
    }
  };

  for (;;) {
    generateDue();
    const now = Date.now();
    if (queue.length === 0) {
      if (report.generated >= total) break;
      await sleep(Math.max(1, dueAt(report.generated) - now));
      continue;
    }
    if (now >= giveUpAt) break;
    const batch = queue.slice(0, o.batch);
    report.attempts++;
    const outcome = await post(o.url, o.batch === 1 ? batch[0] : batch);
    if (outcome === 200) {
      queue.splice(0, batch.length);
      report.acknowledged += batch.length;
      backoff = 0;
    } else {
      report.failures[outcome] = (report.failures[outcome] ?? 0) + 1;
      backoff = Math.min(5000, backoff ? backoff * 2 : 250);
      o.log?.(`${box.licenseKey}: ${outcome}, retrying the same ${batch.length} record(s) in ${backoff} ms`);
      await sleep(backoff);
    }
  }
  report.pending = queue.length;
  return report;
}

async function post(url: string, body: unknown): Promise<number | string> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    await res.arrayBuffer();
    return res.status;
  } catch (e) {
    return (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).name ?? 'error';
  }
}
