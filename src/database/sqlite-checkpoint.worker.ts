/*
 * Worker thread of SqliteCheckpointer: its own connection to the database file, taking a PASSIVE checkpoint every
 * intervalMs. PASSIVE never takes the write lock, so ingest never waits for (or fails on) the worker. Once a
 * checkpoint has copied every frame, the next commit starts the WAL over from its beginning.
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

export interface CheckpointWorkerData {
  file: string;
  intervalMs: number;
}

/** What the worker reports after each attempt. */
export type CheckpointReport = { ok: true; log: number; checkpointed: number } | { ok: false; error: string };

/** The message that closes the connection and ends the thread. */
export type StopMessage = 'stop';

// Only the thread runs this file; its parent imports the types alone.
if (parentPort) {
  const port = parentPort;
  const { file, intervalMs } = workerData as CheckpointWorkerData;
  const db = new Database(file, { fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  db.pragma('synchronous = NORMAL');
  let stopping = false;
  const tick = (): void => {
    if (stopping) return;
    let report: CheckpointReport;
    try {
      const [r] = db.pragma('wal_checkpoint(PASSIVE)') as { log: number; checkpointed: number }[];
      report = { ok: true, log: r.log, checkpointed: r.checkpointed };
    } catch (e) {
      report = { ok: false, error: e instanceof Error ? e.message : String(e) };
    }
    port.postMessage(report);
    setTimeout(tick, intervalMs);
  };
  port.on('message', (m: StopMessage | undefined) => {
    if (m !== 'stop') return;
    stopping = true;
    try {
      db.close();
    } finally {
      process.exit(0);
    }
  });
  tick();
}
