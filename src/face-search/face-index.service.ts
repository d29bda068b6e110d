import { isPlainObject } from '../common/plain-object';
import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import * as path from 'node:path';
import { AppConfig } from '../config/app-config.service';
import {
  IdentityBiometricsErasedEvent,
  IdentityMergedEvent,
  RecognitionRecordedEvent,
  RetentionRecordsDeletedEvent,
} from '../events/domain-events';
import { OnDomainEvent } from '../events/on-domain-event.decorator';
import { OutboxReader } from '../events/outbox-reader.service';
import { NotReady, ReadinessChecks } from '../health/readiness.service';
import { RecordFaceVector, RecordsStore } from '../recognition-records/records-store.service';
import { FaceIndex, FaceIndexParams, IndexFilter } from './face-index';
import { unitVector } from './face-vector';

/**
 * Rows read per query while rebuilding (about 2 KiB each), into the i8 copy only (no graph yet); the graph is built
 * later, when needed, in slices of BUILD_SLICE keys (each blocks the event loop for one usearch add).
 */
const BUILD_PAGE = 5000;
const BUILD_SLICE = 100;
const LOAD_SLICE = 1000;
/** Lets HTTP and timers run between pages: SQLite answers synchronously, so awaiting it alone never yields. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));
const POLL_PAGE = 1000;
const SWEEP_PAGE = 500;
/** A hole in the outbox ids younger than this may be a transaction still committing (PostgreSQL): wait for it. */
const GAP_GRACE_MS = 10_000;
/** Outbox ids re-read after a rebuild: transactions that were in flight when the rebuild took its cursor. */
const REBUILD_OVERLAP = 1000;
/** Events that name records whose vectors must leave the index, and the payload field that lists them. */
const REMOVAL_TYPES = new Map<string, string>([
  [IdentityBiometricsErasedEvent.type, 'erasure'],
  [RetentionRecordsDeletedEvent.type, 'deletion'],
]);
const FEED_TYPES = new Set<string>([RecognitionRecordedEvent.type, IdentityMergedEvent.type, ...REMOVAL_TYPES.keys()]);
/** `value[key]` when value is a plain object (a parsed payload may be anything JSON can hold), else undefined. */
const field = (value: unknown, key: string): unknown => (isPlainObject(value) && Object.hasOwn(value, key) ? value[key] : undefined);
/** A purge snapshot waits for removals to pause (a retention run sends one event per batch), but no longer than this. */
const PURGE_MAX_WAIT_MS = 30_000;
/** After a purge snapshot failed (a full disk), the next attempt. */
const PURGE_RETRY_MS = 60_000;

/**
 * Keeps this instance's face index in step with the database: restored from the snapshot (or rebuilt from the
 * records) at start, then fed from the outbox by id, so records stored through any instance are indexed within
 * about FACE_SEARCH_POLL_MS. Records erased or deleted by retention are dropped on their events
 * (identity.biometrics-erased, retention.records-deleted), read from the outbox like the rest, so on every instance;
 * then the snapshot is rewritten without their vectors and the previous one deleted (a purge snapshot). A search that
 * meets a record erased otherwise, and a slow sweep over the index, drop it too; searches compare candidates with
 * the stored features anyway.
 */
@Injectable()
export class FaceIndexService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(FaceIndexService.name);
  private index: FaceIndex | null = null;
  private cursor = 0;
  private loaded = 0;
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private wakeAgain = false;
  private stopped = false;
  private dirty = false;
  private lastSnapshot = Date.now();
  private sweepKey = 0;
  private gap: { id: number; since: number } | null = null;
  private loadError: string | null = null;
  /** Vectors were removed since the last snapshot: the snapshot files (current and previous) may still hold them. */
  private purge: { since: number; last: number; failedAt: number } | null = null;
  /** The graph being built in the background (growGraph), until it holds every key or the service stops. */
  private graphBuild: Promise<void> | null = null;

  constructor(
    private readonly config: AppConfig,
    private readonly records: RecordsStore,
    private readonly outbox: OutboxReader,
    readiness: ReadinessChecks,
  ) {
    readiness.register('faceIndex', () => this.readiness());
  }

  get enabled(): boolean {
    return this.config.get('FACE_SEARCH_ENABLED');
  }

  /** The index once usable; null while it loads. */
  get ready(): FaceIndex | null {
    return this.index;
  }

  private get params(): FaceIndexParams {
    return {
      quantization: this.config.get('FACE_SEARCH_QUANTIZATION'),
      connectivity: this.config.get('FACE_SEARCH_CONNECTIVITY'),
      expansionAdd: this.config.get('FACE_SEARCH_EXPANSION_ADD'),
      expansionSearch: this.config.get('FACE_SEARCH_EXPANSION_SEARCH'),
    };
  }

  private get snapshotDir(): string {
    return path.resolve(this.config.get('FACE_SEARCH_SNAPSHOT_DIR') ?? path.join(this.config.dataDir, 'face-index'));
  }

  private readiness(): Promise<Record<string, unknown> | undefined> {
    if (!this.enabled) return Promise.resolve({ enabled: false });
    if (this.loadError) return Promise.reject(new NotReady(`face index failed to load: ${this.loadError}`));
    if (!this.index) return Promise.reject(new NotReady(`face index loading (${this.loaded} vectors so far)`));
    // Searches scan the i8 copy until the graph (needed from FACE_SEARCH_EXACT_BELOW vectors) holds every vector.
    const graph = { none: 'none', behind: 'building', ready: 'ready' }[this.index.graphState];
    return Promise.resolve({ vectors: this.index.size, graph });
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.enabled) return;
    // A small index is ready before HTTP starts; a large one keeps loading while HTTP serves and /health/ready says
    // "not ready".
    let wait: NodeJS.Timeout | undefined;
    await Promise.race([this.startLoading(), new Promise((resolve) => (wait = setTimeout(resolve, 2000)))]);
    clearTimeout(wait);
  }

  private startLoading(): Promise<void> {
    return this.load().catch((e: Error) => {
      this.loadError = e.name;
      this.logger.error(`face index failed to load (retried in 5 s): ${e.message}`);
      if (this.stopped) return;
      this.timer = setTimeout(() => {
        this.loadError = null;
        void this.startLoading();
      }, 5000);
      this.timer.unref();
    });
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.polling?.catch(() => undefined);
    // Stops after its current slice; the snapshot keeps the graph so far, and the next start goes on from there.
    await this.graphBuild;
    if (this.index && (this.dirty || this.purge)) this.snapshot();
  }

  private async load(): Promise<void> {
    const started = Date.now();
    const maxId = await this.outbox.maxId();
    let restored: { index: FaceIndex; cursor: number } | null = null;
    try {
      restored = FaceIndex.load(this.snapshotDir, this.params);
    } catch (e) {
      this.logger.warn(`face index snapshot in ${this.snapshotDir} unusable, rebuilding from the database: ${(e as Error).message}`);
    }
    // A snapshot ahead of the database belongs to another database (or one restored from an older backup).
    if (restored && restored.cursor > maxId) restored = null;
    let index: FaceIndex;
    if (restored) {
      index = restored.index;
      this.cursor = restored.cursor;
      this.loaded = index.size;
    } else {
      // Without the graph: searches scan the i8 copy, so the index is usable as soon as the vectors are in; the graph
      // follows in the background if the index is large enough to need it (growGraph).
      index = new FaceIndex(this.params, { graph: false });
      this.cursor = Math.max(0, maxId - REBUILD_OVERLAP);
      let after: string | null = null;
      for (;;) {
        if (this.stopped) return;
        const page = await this.records.faceVectorsAfter(after, BUILD_PAGE);
        if (page.length === 0) break;
        // Lets HTTP (/health/live) be answered between slices (converting and copying a row costs a few µs).
        for (let i = 0; i < page.length; i += LOAD_SLICE) {
          this.addTo(index, page.slice(i, i + LOAD_SLICE));
          this.loaded = index.size;
          await yieldToEventLoop();
        }
        after = page[page.length - 1].recordId;
      }
      this.dirty = true;
    }
    // Catch up with what was stored since, then serve.
    await this.pollInto(index);
    this.index = index;
    this.logger.log(
      `face index ready: ${index.size} vectors (${restored ? 'snapshot' : 'rebuilt from the database'}) in ${Date.now() - started} ms`,
    );
    // A snapshot restored with records erased since: rewritten at once, without them.
    if (!restored || this.purge) this.snapshot();
    this.growGraph(index);
    this.schedule();
  }

  /**
   * Builds the graph in the background once the index holds more than FACE_SEARCH_EXACT_BELOW vectors (up to that, searches
   * scan the i8 copy and never walk it), or goes on with one a snapshot held part of: BUILD_SLICE keys at a time,
   * yielding between them, so HTTP keeps being answered; searches keep scanning until it holds every key. Records
   * added meanwhile are taken by it too; removed ones leave it (or are skipped). Stops at shutdown (the snapshot keeps
   * what was built); after a failure, tried again at the next poll.
   */
  private growGraph(index: FaceIndex): void {
    if (this.graphBuild || this.stopped) return;
    if (index.graphState === 'none') {
      // Searches scan while they admit up to FACE_SEARCH_EXACT_BELOW vectors: a graph is of use only beyond it.
      if (index.size <= this.config.get('FACE_SEARCH_EXACT_BELOW')) return;
      index.startGraph();
    }
    if (index.graphState !== 'behind') return;
    const started = Date.now();
    this.logger.log(`face index graph: building over ${index.graphBehind} keys in the background`);
    this.graphBuild = (async () => {
      while (!this.stopped && index.extendGraph(BUILD_SLICE) > 0) {
        this.dirty = true;
        await yieldToEventLoop();
      }
      this.dirty = true;
      if (index.graphState === 'ready') this.logger.log(`face index graph ready: ${index.size} vectors in ${Date.now() - started} ms`);
    })()
      .catch((e: Error) => this.logger.warn(`face index graph build failed (retried at the next poll): ${e.message}`))
      .finally(() => (this.graphBuild = null));
  }

  private addTo(index: FaceIndex, rows: RecordFaceVector[]): void {
    const entries = [];
    for (const r of rows) {
      if (index.has(r.recordId)) continue;
      const vector = unitVector(r.feature);
      if (!vector) continue; // wrong length, NaN/Infinity, zero: never indexed (the record carries a defect)
      const { occurredAt, boxId, mediaDeviceId, userType, identityId } = r;
      entries.push({ recordId: r.recordId, vector, facts: { occurredAt, boxId, mediaDeviceId, userType, identityId } });
    }
    if (index.add(entries) > 0) this.dirty = true;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), this.config.get('FACE_SEARCH_POLL_MS'));
    this.timer.unref();
  }

  /** A record stored through this instance: index it now rather than at the next poll. */
  @OnDomainEvent(RecognitionRecordedEvent.type)
  onRecorded(event: RecognitionRecordedEvent): void {
    this.wake(event.meta?.eventId);
  }

  /** Erased or deleted through this instance: out of the index now (other instances read the event at their next poll). */
  @OnDomainEvent(IdentityBiometricsErasedEvent.type)
  onErased(event: IdentityBiometricsErasedEvent): void {
    this.wake(event.meta?.eventId);
  }

  @OnDomainEvent(RetentionRecordsDeletedEvent.type)
  onDeleted(event: RetentionRecordsDeletedEvent): void {
    this.wake(event.meta?.eventId);
  }

  private wake(eventId: number | undefined): void {
    if (!this.index || this.stopped) return;
    // The relay hands over its batch one event at a time, and the first poll already read the whole batch.
    if (eventId !== undefined && eventId !== null && eventId <= this.cursor) return;
    if (this.polling) {
      this.wakeAgain = true;
      return;
    }
    void this.run();
  }

  private async tick(): Promise<void> {
    await this.run();
    if (this.index) {
      this.growGraph(this.index);
      await this.sweep(this.index).catch((e: Error) => this.logger.warn(`face index sweep failed: ${e.message}`));
      const every = this.config.get('FACE_SEARCH_SNAPSHOT_INTERVAL_MS');
      if (this.purgeDue()) this.snapshot();
      else if (every > 0 && this.dirty && Date.now() - this.lastSnapshot >= every) this.snapshot();
    }
    this.schedule();
  }

  private async run(): Promise<void> {
    if (this.polling) return this.polling;
    this.polling = (async () => {
      do {
        this.wakeAgain = false;
        if (this.index) await this.pollInto(this.index);
      } while (this.wakeAgain && !this.stopped);
    })()
      .catch((e: Error) => this.logger.warn(`face index update failed (retried at the next poll): ${e.message}`))
      .finally(() => (this.polling = null));
    return this.polling;
  }

  /** Reads the outbox after the cursor, in id order, and applies what it says; waits at a hole that may still commit. */
  private async pollInto(index: FaceIndex): Promise<void> {
    for (;;) {
      const rows = await this.outbox.readAfter({ after: this.cursor, limit: POLL_PAGE });
      if (rows.length === 0) return;
      const recordIds: string[] = [];
      const removed: string[] = [];
      let stoppedAtGap = false;
      // The cursor moves only once the page's vectors are in: if reading them fails (the database went away
      // between the two reads), the page is read again at the next poll rather than skipped for good.
      let cursor = this.cursor;
      for (const row of rows) {
        if (row.id !== cursor + 1 && !this.gapExpired(cursor + 1, row.createdAt)) {
          stoppedAtGap = true;
          break;
        }
        this.gap = null;
        // Payloads are read as untrusted (a row written by hand, a bug elsewhere): only string ids are taken, and a
        // row that holds none is passed over, so it never stops the index (a throw here would be retried forever).
        if (FEED_TYPES.has(row.type)) {
          if (row.type === RecognitionRecordedEvent.type) {
            const recordId = field(field(row.payload, 'record'), 'recordId');
            if (typeof recordId === 'string' && recordId && !index.has(recordId)) recordIds.push(recordId);
          } else if (REMOVAL_TYPES.has(row.type)) {
            const named = field(field(row.payload, REMOVAL_TYPES.get(row.type)!), 'recordIds');
            // One by one: spreading a huge array into push() overflows the stack.
            if (Array.isArray(named)) for (const id of named as unknown[]) if (typeof id === 'string') removed.push(id);
          } else {
            const merge = field(row.payload, 'merge');
            const [sourceId, targetId] = [field(merge, 'sourceId'), field(merge, 'targetId')];
            if (typeof sourceId === 'string' && sourceId && typeof targetId === 'string' && targetId) {
              index.renameIdentity(sourceId, targetId);
              this.dirty = true;
            }
          }
        }
        cursor = row.id;
      }
      for (let i = 0; i < recordIds.length; i += 500) this.addTo(index, await this.records.faceVectorsOf(recordIds.slice(i, i + 500)));
      // After the adds: a record stored and erased within one page is read without its feature anyway, and one read
      // just before its erasure committed leaves again here.
      for (const id of removed) this.removeFrom(index, id);
      this.cursor = cursor;
      if (stoppedAtGap || rows.length < POLL_PAGE) return;
      await yieldToEventLoop();
    }
  }

  /** Whether the missing id `id` may be skipped: missing for the grace period, or the row after it is that old. */
  private gapExpired(id: number, nextCreatedAt: number): boolean {
    const now = Date.now();
    if (now - nextCreatedAt >= GAP_GRACE_MS) return true;
    if (this.gap?.id !== id) this.gap = { id, since: now };
    return now - this.gap.since >= GAP_GRACE_MS;
  }

  /** Drops a slice of index entries whose record is gone or erased (erasure and retention leave no event). */
  private async sweep(index: FaceIndex): Promise<void> {
    if (index.size === 0) return;
    const { ids, next } = index.sweepSlice(this.sweepKey, SWEEP_PAGE);
    const present = await this.records.withFeature(ids);
    for (const id of ids) if (!present.has(id)) this.forget(id);
    this.sweepKey = next;
  }

  /** A record found erased or deleted: out of the index, and out of the snapshot files soon (purgeDue). */
  forget(recordId: string): void {
    if (this.index) this.removeFrom(this.index, recordId);
  }

  private removeFrom(index: FaceIndex, recordId: string): void {
    if (!index.remove(recordId)) return;
    this.dirty = true;
    const now = Date.now();
    this.purge = { since: this.purge?.since ?? now, last: now, failedAt: this.purge?.failedAt ?? 0 };
  }

  /**
   * Whether to write a purge snapshot now: once removals paused for half a poll (an erasure's batches come together;
   * a retention run's keep coming), at the latest PURGE_MAX_WAIT_MS after the first; after a failure, a minute later.
   */
  private purgeDue(): boolean {
    if (!this.purge) return false;
    const now = Date.now();
    if (now - this.purge.failedAt < PURGE_RETRY_MS) return false;
    return now - this.purge.last >= this.config.get('FACE_SEARCH_POLL_MS') / 2 || now - this.purge.since >= PURGE_MAX_WAIT_MS;
  }

  candidates(probe: Float32Array, want: number, filter: IndexFilter) {
    const exactBelow = this.config.get('FACE_SEARCH_EXACT_BELOW');
    return this.index!.candidates(probe, want, filter, exactBelow, this.params.expansionSearch, this.config.get('FACE_SEARCH_SHORTLIST'));
  }

  /** Writes the snapshot; after removals a purge one (no previous snapshot left behind, see FaceIndex.save). */
  private snapshot(): void {
    if (!this.index) return;
    const purge = this.purge;
    try {
      this.index.save(this.snapshotDir, this.cursor, { purge: purge !== null });
      this.dirty = false;
      // Removals during the save (none: it is synchronous) would have replaced the object.
      if (this.purge === purge) this.purge = null;
    } catch (e) {
      if (purge) purge.failedAt = Date.now();
      // The index keeps serving; the previous snapshot (if any) stays in place and the next start catches up from it.
      const [what, when] = purge ? ['purge snapshot', 'within a minute'] : ['snapshot', 'at the next interval'];
      this.logger.warn(`face index ${what} not written, the previous one stays (retried ${when}): ${(e as Error).message}`);
    } finally {
      // Also after a failure: a full disk is not written to again on every poll.
      this.lastSnapshot = Date.now();
    }
  }
}
