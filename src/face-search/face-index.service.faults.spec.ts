import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Logger } from '@nestjs/common';
import type { OutboxEntry, OutboxReader } from '../events/outbox-reader.service';
import type { ReadinessChecks } from '../health/readiness.service';
import type { RecordsStore } from '../recognition-records/records-store.service';
import { FaceIndex } from './face-index';
import { FaceIndexService } from './face-index.service';
import { configFor, features, inFile, onDisk, until, vectorsOf } from '../../test/helpers/face-index-service-kit';
import { describeWithMount, mountSmallFilesystem, SmallFilesystem } from '../../test/helpers/small-filesystem';

const IDS = ['r1', 'r2', 'r3', 'r4'];
const erasure = (recordIds: unknown): Record<string, unknown> => ({ erasure: { identityId: 'i', recordIds, erasedBy: 'a' } });

/**
 * A FaceIndexService on a fake database: every record keeps its feature (so only the events can remove vectors, not
 * the sweep), and `db` plays an outage of every read: 'refuse' fails at once, 'silent' never answers until restored.
 */
async function startHub(dir: string, exactBelow: number) {
  const outbox: OutboxEntry[] = [];
  const db = {
    state: 'up' as 'up' | 'refuse' | 'silent',
    reads: 0,
    waiting: [] as (() => void)[],
    /** Called after an outbox page was read (to cut the database between that read and the next). */
    afterOutboxRead: null as (() => void) | null,
  };
  const read = <T>(answer: () => T): Promise<T> => {
    db.reads++;
    if (db.state === 'refuse') return Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
    if (db.state === 'silent') return new Promise((resolve) => db.waiting.push(() => resolve(answer())));
    return Promise.resolve(answer());
  };
  const records = {
    faceVectorsAfter: () => read(() => []),
    faceVectorsOf: (ids: string[]) => read(() => vectorsOf(ids)),
    withFeature: (ids: string[]) => read(() => new Set(ids)),
  } as unknown as RecordsStore;
  const reader = {
    maxId: () => read(() => outbox.length),
    readAfter: async ({ after, limit }: { after: number; limit: number }) => {
      const page = await read(() => outbox.filter((e) => e.id > after).slice(0, limit));
      db.afterOutboxRead?.();
      return page;
    },
  } as unknown as OutboxReader;
  const event = (type: string, payload: unknown) =>
    outbox.push({ id: outbox.length + 1, type, aggregateId: 'x', payload: payload as Record<string, unknown>, createdAt: Date.now() });
  const restore = () => {
    db.state = 'up';
    for (const answer of db.waiting.splice(0)) answer();
  };
  IDS.forEach((recordId) => event('recognition.recorded', { record: { recordId } }));
  const service = new FaceIndexService(configFor(dir, exactBelow), records, reader, {
    register: () => undefined,
  } as unknown as ReadinessChecks);
  await service.onApplicationBootstrap();
  await until(() => service.ready?.size === 4, 'the records indexed');
  const cursor = () => (service as unknown as { cursor: number }).cursor;
  const finds = (id: string) => service.candidates(features.get(id)!, 4, {}).ids.includes(id);
  return { service, outbox, event, db, restore, cursor, finds };
}

describe('FaceIndexService under faults', () => {
  let dir: string;
  let small: SmallFilesystem | undefined;
  let hub: Awaited<ReturnType<typeof startHub>> | undefined;
  let logged: string[];

  beforeEach(() => {
    logged = [];
    for (const level of ['log', 'warn', 'error'] as const) {
      jest.spyOn(Logger.prototype, level).mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(' ')));
    }
  });
  afterEach(async () => {
    restoreClock();
    hub?.restore();
    await hub?.service.onApplicationShutdown();
    hub = undefined;
    jest.restoreAllMocks();
    small?.unmount();
    small = undefined;
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });
  const noBiometricsLogged = () => expect(logged.join('\n')).not.toMatch(/[A-Za-z0-9+/]{64}/);

  /** Date.now() moved forward by `ms` (the purge snapshot's retry waits a minute). */
  let restoreClock = () => undefined as void;
  const advanceClock = (ms: number) => {
    const real = Date.now.bind(Date);
    const spy = jest.spyOn(Date, 'now').mockImplementation(() => real() + ms);
    restoreClock = () => spy.mockRestore();
  };

  describeWithMount('a purge snapshot on a full disk', () => {
    it('drops the vectors from memory and search at once, keeps the old snapshot whole, and purges the files once space is back', async () => {
      small = mountSmallFilesystem(4 << 20);
      dir = path.join(small.dir, 'face-index');
      // From 2 vectors on the graph is built: usearch keeps a removed vector's bytes in its free slots in memory.
      hub = await startHub(dir, 2);
      await until(() => hub!.service.ready!.graphState === 'ready', 'the graph built');
      expect(onDisk(dir, 'r2')).toBe(true);
      const before = new Map(fs.readdirSync(dir).map((n) => [n, fs.readFileSync(path.join(dir, n))]));

      small.fill();
      hub.event('identity.biometrics-erased', erasure(['r2']));
      hub.service.onErased({ meta: { eventId: hub.outbox.length } } as never);
      await until(() => hub!.service.ready!.size === 3, 'r2 out of the index');
      expect(hub.finds('r2')).toBe(false);
      expect(hub.finds('r1')).toBe(true);
      await until(() => logged.some((m) => /face index purge snapshot not written/.test(m)), 'the failed purge snapshot logged');
      expect(logged.find((m) => /purge snapshot not written/.test(m))).toMatch(/ENOSPC|bytes free/);
      // The old snapshot as it was, every file and byte; nothing half-written beside it.
      expect(fs.readdirSync(dir).sort()).toEqual([...before.keys()].sort());
      for (const [name, bytes] of before) expect(fs.readFileSync(path.join(dir, name)).equals(bytes)).toBe(true);
      // Out of memory too, not only unsearchable: the graph usearch holds now has no slot with r2's bytes.
      const graphFile = path.join(os.tmpdir(), `face-index-faults-${process.pid}.usearch`);
      try {
        (hub.service.ready as unknown as { index: { save(file: string): void } }).index.save(graphFile);
        expect(inFile(graphFile, 'r2')).toBe(false);
      } finally {
        fs.rmSync(graphFile, { force: true });
      }
      noBiometricsLogged();

      // Space back: the retry (a minute after the failure) writes the purge snapshot and deletes the old files.
      small.free();
      advanceClock(61_000);
      await until(() => !onDisk(dir, 'r2'), 'no file with r2 once space is back');
      expect(onDisk(dir, 'r1')).toBe(true);
      expect(fs.readdirSync(dir).filter((n) => n.endsWith('.usearch'))).toHaveLength(1);
      expect(FaceIndex.load(dir, hub.service.ready!.params)!.index.size).toBe(3);
    });
  });

  describe('the database lost while an erasure is read', () => {
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'face-index-faults-'))));

    it.each(['refuse', 'silent'] as const)(
      '%s: the event is neither skipped nor lost, and applied once the database is back',
      async (state) => {
        hub = await startHub(dir, 1_000_000);
        const at = hub.cursor();
        hub.db.state = state;
        hub.event('identity.biometrics-erased', erasure(['r2', 'r3']));
        hub.event('recognition.recorded', { record: { recordId: 'r9' } });
        const reads = hub.db.reads;
        await until(() => hub!.db.reads > reads + (state === 'silent' ? 0 : 3), 'polls during the outage');
        await new Promise((r) => setTimeout(r, 100));
        expect(hub.cursor()).toBe(at);
        expect(hub.service.ready!.size).toBe(4);
        hub.restore();
        await until(() => hub!.service.ready!.size === 2 && hub!.cursor() === at + 2, 'the erasure applied');
        await until(() => !onDisk(dir, 'r2') && !onDisk(dir, 'r3'), 'a purge snapshot');
        expect(onDisk(dir, 'r1')).toBe(true);
      },
    );

    it('a page read, then the database lost before the vectors of its new records: read again, erasure included', async () => {
      hub = await startHub(dir, 1_000_000);
      const at = hub.cursor();
      hub.event('recognition.recorded', { record: { recordId: 'r9' } });
      hub.event('identity.biometrics-erased', erasure(['r2']));
      // The outbox page comes back; the read of the new record's vector (the next read) fails.
      const h = hub;
      h.db.afterOutboxRead = () => {
        h.db.state = 'refuse';
        h.db.afterOutboxRead = null;
      };
      h.service.onRecorded({ meta: { eventId: h.outbox.length } } as never);
      await until(() => logged.some((m) => /face index update failed/.test(m)), 'the vectors read to fail');
      await new Promise((r) => setTimeout(r, 100));
      expect(h.cursor()).toBe(at);
      h.restore();
      await until(() => h.service.ready!.size === 3 && h.cursor() === at + 2, 'the erasure applied');
      expect(h.service.ready!.has('r2')).toBe(false);
    });
  });

  describe('hostile erasure and retention payloads', () => {
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'face-index-faults-'))));

    it('takes only string ids, passes over the rest without stalling, and logs none of it', async () => {
      hub = await startHub(dir, 1_000_000);
      const blob = Buffer.from(features.get('r1')!.buffer).toString('base64');
      const hostile: [string, unknown][] = [
        ['identity.biometrics-erased', null],
        ['identity.biometrics-erased', 'r1'],
        ['identity.biometrics-erased', 42],
        ['identity.biometrics-erased', ['r1']],
        ['identity.biometrics-erased', {}],
        ['identity.biometrics-erased', { erasure: null }],
        ['identity.biometrics-erased', { erasure: 'r1' }],
        ['identity.biometrics-erased', { erasure: { recordIds: 'r1' } }],
        ['identity.biometrics-erased', { erasure: { recordIds: { 0: 'r1', length: 1 } } }],
        ['identity.biometrics-erased', erasure([1, null, true, {}, ['r1'], { toString: 'r1' }, blob])],
        // Larger than a call's arguments may be (spread into push(), it overflowed the stack).
        ['retention.records-deleted', { deletion: { recordIds: Array.from({ length: 300_000 }, (_, i) => i) } }],
        ['retention.records-deleted', { deletion: { recordIds: [...Array.from({ length: 300_000 }, (_, i) => `gone-${i}`), 'r3'] } }],
        ['retention.records-deleted', { erasure: { recordIds: ['r1'] }, deletion: { recordIds: [{ recordIds: ['r1'] }] } }],
        ['recognition.recorded', null],
        ['recognition.recorded', { record: { recordId: { id: 'r9' } } }],
        ['recognition.recorded', { record: { recordId: ['r9'] } }],
        ['identity.merged', null],
        ['identity.merged', { merge: { sourceId: { id: 'i' }, targetId: 7 } }],
      ];
      for (const [type, payload] of hostile) hub.event(type, payload);
      hub.event('identity.biometrics-erased', erasure(['r2', blob]));
      hub.service.onErased({ meta: { eventId: hub.outbox.length } } as never);
      const h = hub;
      await until(() => h.cursor() === h.outbox.length, 'every event read');
      // r3 (named among 300,000 strings) and r2 (by the good event after them all) are out; r1 and r4 stay.
      await until(() => h.service.ready!.size === 2, 'r2 and r3 out of the index');
      expect(['r1', 'r2', 'r3', 'r4'].map((id) => h.service.ready!.has(id))).toEqual([true, false, false, true]);
      await until(() => !onDisk(dir, 'r2') && !onDisk(dir, 'r3'), 'a purge snapshot');
      // Still reading: a record stored after them is indexed.
      features.set(
        'r9',
        features.get('r4')!.map((x, i) => (i % 2 ? x : -x)),
      );
      hub.event('recognition.recorded', { record: { recordId: 'r9' } });
      await until(() => h.service.ready!.has('r9'), 'a later record indexed');
      expect(logged.filter((m) => /failed/.test(m))).toEqual([]);
      noBiometricsLogged();
      features.delete('r9');
    });
  });
});
