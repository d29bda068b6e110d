import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Logger } from '@nestjs/common';
import type { OutboxEntry } from '../events/outbox-reader.service';
import type { ReadinessChecks } from '../health/readiness.service';
import type { RecordFaceVector, RecordsStore } from '../recognition-records/records-store.service';
import { FaceIndex } from './face-index';
import { FaceIndexService } from './face-index.service';
import { FACE_DIMENSIONS, normalised } from './face-vector';
import { configFor, features, onDisk, outboxReaderOver, until, vectorRow, vectorsOf } from '../../test/helpers/face-index-service-kit';
import { seededUniform } from '../../test/helpers/seeded-uniform';

/**
 * The face index listens to erasure and retention events (read from the outbox, as every instance does): the
 * records they name leave the index, and the snapshot is rewritten without them at once. The records store here
 * says every record still has its feature, so neither the sweep nor a search could be what removed them.
 */
describe('FaceIndexService: erasure and retention events', () => {
  let dir: string;
  let service: FaceIndexService;
  /** Another start of the service on the same snapshot directory, database and outbox. */
  let restart: () => FaceIndexService;
  const outbox: OutboxEntry[] = [];
  const event = (type: string, aggregateId: string, payload: Record<string, unknown>) =>
    outbox.push({ id: outbox.length + 1, type, aggregateId, payload, createdAt: Date.now() });
  const recorded = (recordId: string) => event('recognition.recorded', recordId, { record: { recordId } });

  beforeAll(() => jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined));
  afterAll(() => jest.restoreAllMocks());

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'face-index-service-'));
    outbox.length = 0;
    const config = configFor(dir, 1_000_000);
    const records = {
      faceVectorsAfter: () => Promise.resolve([]),
      faceVectorsOf: (ids: string[]) => Promise.resolve(vectorsOf(ids)),
      withFeature: (ids: string[]) => Promise.resolve(new Set(ids)),
    } as unknown as RecordsStore;
    const reader = outboxReaderOver(outbox);
    restart = () => new FaceIndexService(config, records, reader, { register: () => undefined } as unknown as ReadinessChecks);
    service = restart();
    ['r1', 'r2', 'r3', 'r4'].forEach(recorded);
    await service.onApplicationBootstrap();
    await until(() => service.ready?.size === 4, 'the records indexed');
  });

  afterEach(async () => {
    await service.onApplicationShutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('drops the records an erasure names and rewrites the snapshot without them', async () => {
    // The snapshot written after the rebuild holds them (the scan can see them).
    expect(onDisk(dir, 'r2')).toBe(true);
    event('identity.biometrics-erased', 'i', {
      erasure: { identityId: 'i', identityExternalId: 'x', recordIds: ['r2', 'r3'], erasedBy: 'a' },
    });
    service.onErased({ meta: { eventId: outbox.length } } as never);
    await until(() => service.ready?.size === 2, 'the erased records out of the index');
    expect(service.ready!.has('r2') || service.ready!.has('r3')).toBe(false);
    await until(() => !onDisk(dir, 'r2') && !onDisk(dir, 'r3'), 'a snapshot without them');
    expect(onDisk(dir, 'r1')).toBe(true);
    expect(fs.readdirSync(dir).filter((n) => n.endsWith('.usearch'))).toHaveLength(1);
  });

  it('drops the records a retention batch deleted, read at the next poll (another instance relayed it)', async () => {
    event('retention.records-deleted', 'retention', { deletion: { recordIds: ['r4', 'no-such-record'], cutoff: 5 } });
    await until(() => service.ready?.size === 3 && !onDisk(dir, 'r4'), 'r4 out of the index and the snapshot');
    expect(onDisk(dir, 'r1')).toBe(true);
  });

  it('restarted from a snapshot written before an erasure it never read, drops those records and purges the files', async () => {
    // The instance goes away (as after a crash, its last snapshot still holds r2); the erasure commits meanwhile.
    await service.onApplicationShutdown();
    expect(onDisk(dir, 'r2')).toBe(true);
    event('identity.biometrics-erased', 'i', {
      erasure: { identityId: 'i', identityExternalId: 'x', recordIds: ['r2'], erasedBy: 'a' },
    });
    service = restart();
    await service.onApplicationBootstrap();
    await until(() => service.ready?.size === 3 && !onDisk(dir, 'r2'), 'r2 out of the restored index and of every snapshot file');
    expect(onDisk(dir, 'r1')).toBe(true);
  });

  it('writes no purge snapshot for events naming records it never held', async () => {
    const before = fs.readdirSync(dir).sort();
    event('retention.records-deleted', 'retention', { deletion: { recordIds: ['elsewhere'], cutoff: 5 } });
    await new Promise((r) => setTimeout(r, 200));
    expect(fs.readdirSync(dir).sort()).toEqual(before);
  });
});

/**
 * The graph is built only once the index holds more than FACE_SEARCH_EXACT_BELOW vectors, in the background: the index is ready
 * (searches scan the i8 copy) as soon as the vectors are loaded, and searches walk the graph once it holds them all.
 */
describe('FaceIndexService: the graph built when the index passes FACE_SEARCH_EXACT_BELOW', () => {
  let dir: string;
  let service: FaceIndexService;
  let readiness: () => Promise<Record<string, unknown> | undefined>;
  const outbox: OutboxEntry[] = [];
  const uniform = seededUniform(5);
  const vectors = new Map(
    Array.from({ length: 60 }, (_, i) => [`s${String(i).padStart(2, '0')}`, normalised(Array.from({ length: FACE_DIMENSIONS }, uniform))!]),
  );
  const row = (recordId: string): RecordFaceVector => vectorRow(recordId, vectors.get(recordId)!);
  /** The first 40 records are in the database at start; the rest arrive through the outbox. */
  const stored = [...vectors.keys()].slice(0, 40);

  beforeAll(() => jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined));
  afterAll(() => jest.restoreAllMocks());

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'face-index-service-'));
    outbox.length = 0;
    const config = configFor(dir, 50);
    const records = {
      faceVectorsAfter: (after: string | null, limit: number) =>
        Promise.resolve(
          stored
            .filter((id) => after === null || id > after)
            .slice(0, limit)
            .map(row),
        ),
      faceVectorsOf: (ids: string[]) => Promise.resolve(ids.map(row)),
      withFeature: (ids: string[]) => Promise.resolve(new Set(ids)),
    } as unknown as RecordsStore;
    const reader = outboxReaderOver(outbox);
    const checks = { register: (_: string, check: typeof readiness) => (readiness = check) } as unknown as ReadinessChecks;
    service = new FaceIndexService(config, records, reader, checks);
    await service.onApplicationBootstrap();
    await until(() => service.ready?.size === 40, 'the records loaded');
  });

  afterEach(async () => {
    await service.onApplicationShutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const nearest = (id: string) => service.candidates(vectors.get(id)!, 1, {});

  it('serves from the scan below the threshold, then builds the graph and walks it once the index reaches it', async () => {
    expect(await readiness()).toEqual({ vectors: 40, graph: 'none' });
    expect(nearest('s07')).toEqual({ ids: ['s07'], considered: 40 });
    for (const id of [...vectors.keys()].slice(40)) {
      outbox.push({
        id: outbox.length + 1,
        type: 'recognition.recorded',
        aggregateId: id,
        payload: { record: { recordId: id } },
        createdAt: Date.now(),
      });
    }
    await until(() => service.ready?.size === 60 && service.ready.graphState === 'ready', 'the graph built');
    expect(await readiness()).toEqual({ vectors: 60, graph: 'ready' });
    const graph = (service.ready as unknown as { index: { size(): number } }).index;
    expect(graph.size()).toBe(60);
    // Above the threshold: through the graph, and every record still found first for its own vector.
    for (const id of vectors.keys()) expect(nearest(id)).toEqual({ ids: [id], considered: 60 });
    // The snapshot written at shutdown holds the graph: a restart has it at once.
    await service.onApplicationShutdown();
    const params = { quantization: 'i8' as const, connectivity: 16, expansionAdd: 64, expansionSearch: 64 };
    expect(FaceIndex.load(dir, params)?.index.graphState).toBe('ready');
  });
});
