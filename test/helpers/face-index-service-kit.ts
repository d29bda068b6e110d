import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AppConfig } from '../../src/config/app-config.service';
import { FACE_DIMENSIONS, normalised } from '../../src/face-search/face-vector';
import type { OutboxEntry, OutboxReader } from '../../src/events/outbox-reader.service';
import type { RecordFaceVector } from '../../src/recognition-records/records-store.service';

/** What FaceIndexService's unit tests share: records' features, a byte search of snapshot files, settings, a wait. */
let seed = 11;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
export const features = new Map(['r1', 'r2', 'r3', 'r4'].map((id) => [id, normalised(Array.from({ length: FACE_DIMENSIONS }, rnd))!]));

/** A record's stored vector as RecordsStore reads it (one box, camera and identity for all). */
export const vectorRow = (recordId: string, vector: Float32Array): RecordFaceVector => ({
  recordId,
  feature: Buffer.from(vector.buffer),
  occurredAt: 1,
  boxId: 'b',
  mediaDeviceId: 'm',
  userType: null,
  identityId: 'i',
});

/** The stored vectors of those of these records that have a feature. */
export const vectorsOf = (ids: string[]): RecordFaceVector[] =>
  ids.filter((id) => features.has(id)).map((id) => vectorRow(id, features.get(id)!));

/**
 * The forms a record's vector takes in files, as 64-byte slices: the i8 copy's row (scaled to its largest component),
 * and usearch's i8 cast (the default quantisation) of the vector, or of the one taken back from the i8 copy (what
 * the graph holds of a record it took after it was loaded).
 */
const formsOf = (recordId: string): Buffer[] => {
  const v = features.get(recordId)!;
  const max = v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
  const copy = Int8Array.from(v, (x) => Math.round((x * 127) / max));
  const back = Float32Array.from(copy, (q) => q * Math.fround(max / 127));
  const casts = [
    Int8Array.from(v, (x) => Math.trunc(x * 127)),
    Int8Array.from(back, (x) => Math.trunc(x * 127)),
    Int8Array.from(back, (x) => Math.round(x * 127)),
  ];
  return [copy, ...casts].map((f) => Buffer.from(f.buffer).subarray(0, 64));
};

/** Whether this file holds the record's vector in either form. */
export const inFile = (file: string, recordId: string): boolean => {
  const bytes = fs.readFileSync(file);
  return formsOf(recordId).some((form) => bytes.includes(form));
};

/** Whether a file in `dir` holds the record's vector (see inFile). */
export const onDisk = (dir: string, recordId: string): boolean =>
  fs.readdirSync(dir).some((n) => fs.statSync(path.join(dir, n)).isFile() && inFile(path.join(dir, n), recordId));

/** The service's settings, snapshots in `dir`; only purge snapshots (and the first one) are written during a test. */
export const configFor = (dir: string, exactBelow: number): AppConfig => {
  const settings: Record<string, unknown> = {
    FACE_SEARCH_ENABLED: true,
    FACE_SEARCH_SNAPSHOT_DIR: dir,
    FACE_SEARCH_POLL_MS: 20,
    FACE_SEARCH_SNAPSHOT_INTERVAL_MS: 3_600_000,
    FACE_SEARCH_QUANTIZATION: 'i8',
    FACE_SEARCH_CONNECTIVITY: 16,
    FACE_SEARCH_EXPANSION_ADD: 64,
    FACE_SEARCH_EXPANSION_SEARCH: 64,
    FACE_SEARCH_EXACT_BELOW: exactBelow,
    FACE_SEARCH_SHORTLIST: 0,
  };
  return { get: (k: string) => settings[k], dataDir: dir } as unknown as AppConfig;
};

export const until = async (check: () => boolean, what: string, ms = 5000): Promise<void> => {
  for (const deadline = Date.now() + ms; !check(); await new Promise((r) => setTimeout(r, 10))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
  }
};

/** An outbox reader over an array of events (ids 1, 2, … in order), as OutboxReader pages them. */
export const outboxReaderOver = (outbox: OutboxEntry[]): OutboxReader =>
  ({
    maxId: () => Promise.resolve(outbox.length),
    readAfter: ({ after, limit }: { after: number; limit: number }) => Promise.resolve(outbox.filter((e) => e.id > after).slice(0, limit)),
  }) as unknown as OutboxReader;
