import { Inject, Injectable, Optional } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { AppConfig } from '../config/app-config.service';
import { UnitOfWork } from '../database/unit-of-work';
import { FaceLibraryService } from '../identities/face-library.service';
import { RecordsStore, RecordView } from '../recognition-records/records-store.service';
import { recordNotFound } from '../recognition-records/record-errors';
import { IndexFilter } from './face-index';
import { FaceIndexService } from './face-index.service';
import { faceIndexLoading, faceSearchDisabled, invalidProbe } from './face-search-errors';
import { identityAsPerson, PERSON_RESOLVER, PersonResolver } from './face-search.types';
import { cosine, FACE_DIMENSIONS, normalised, unitVector } from './face-vector';

export type FaceProbe = { feature: string | number[] } | { recordId: string } | { faceId: string };

export interface FaceSearchQuery {
  limit: number;
  minSimilarity?: number;
  from?: number;
  to?: number;
  boxId?: string;
  mediaDeviceId?: string;
  userType?: string;
  personId?: string;
  identityId?: string;
  groupBy: 'record' | 'identity' | 'person';
}

export interface FaceSearchHit {
  similarity: number;
  record: RecordView;
  personId: string | null;
}

const CHUNK = 500;

/**
 * Search by face: the index proposes candidates, which are compared exactly with the float32 features stored
 * with the records (so similarities are exact whatever the index quantisation), re-checked against the filters as
 * stored now, and grouped. Candidates whose record is gone or erased are dropped from the index on the way.
 */
@Injectable()
export class FaceSearchService {
  constructor(
    private readonly index: FaceIndexService,
    private readonly records: RecordsStore,
    private readonly faces: FaceLibraryService,
    private readonly audit: AuditService,
    private readonly uow: UnitOfWork,
    private readonly config: AppConfig,
    @Optional() @Inject(PERSON_RESOLVER) private readonly persons: PersonResolver | null,
  ) {}

  private get resolver(): PersonResolver {
    return this.persons ?? identityAsPerson;
  }

  /** The probe as a unit vector, or 400 naming the field; `excludeRecordId` is the probe record itself. */
  async probeVector(probe: Record<string, unknown>): Promise<{ vector: Float32Array; excludeRecordId: string | null; subject: string }> {
    const given = (['feature', 'recordId', 'faceId'] as const).filter((k) => probe[k] !== undefined && probe[k] !== null);
    if (given.length === 0) throw invalidProbe('feature', 'give one probe: feature, recordId or faceId');
    if (given.length > 1) throw invalidProbe(given[1], `give exactly one probe, not ${given.join(' and ')}`);
    const which = given[0];
    if (which === 'feature') return { vector: featureProbe(probe.feature), excludeRecordId: null, subject: 'feature' };
    if (which === 'recordId') {
      const id = probe.recordId as string;
      const [row] = await this.records.faceVectorsOf([id]);
      if (!row) throw invalidProbe('recordId', 'no such record');
      const vector = unitVector(row.feature);
      if (!vector) throw invalidProbe('recordId', 'the record has no usable feature');
      return { vector, excludeRecordId: id, subject: id };
    }
    const face = await this.faces.faceFeature(probe.faceId as string);
    if (!face) throw invalidProbe('faceId', 'no such face');
    const vector = unitVector(face.feature);
    if (!vector) throw invalidProbe('faceId', 'the face has no usable feature');
    return { vector, excludeRecordId: null, subject: probe.faceId as string };
  }

  /** GET /records/{id}/similar: 404 for an unknown record, 400 when it has no usable feature. */
  async recordProbe(recordId: string): Promise<{ vector: Float32Array; excludeRecordId: string; subject: string }> {
    const [row] = await this.records.faceVectorsOf([recordId]);
    if (!row) throw recordNotFound();
    const vector = unitVector(row.feature);
    if (!vector) throw invalidProbe('id', 'the record has no usable feature');
    return { vector, excludeRecordId: recordId, subject: recordId };
  }

  async search(
    probe: { vector: Float32Array; excludeRecordId: string | null; subject: string },
    q: FaceSearchQuery,
    actor: string,
  ): Promise<{ items: FaceSearchHit[]; searched: number }> {
    if (!this.index.enabled) throw faceSearchDisabled();
    if (!this.index.ready) throw faceIndexLoading();
    const minSimilarity = q.minSimilarity ?? this.config.get('FACE_SEARCH_MIN_SIMILARITY');
    let identityIds: string[] | undefined = q.identityId ? [q.identityId] : undefined;
    if (q.personId) {
      const ofPerson = await this.resolver.identityIdsOf(q.personId);
      identityIds = identityIds ? identityIds.filter((id) => ofPerson.includes(id)) : ofPerson;
    }
    const filter: IndexFilter = {
      from: q.from,
      to: q.to,
      boxId: q.boxId,
      mediaDeviceId: q.mediaDeviceId,
      userType: q.userType,
      identityIds,
    };
    // The candidates come ranked by their i8 vectors, which order them nearly as the exact features do: re-ranking
    // 4 per answer (at least 40) lost no recall on the benchmark, and each is a row read (about 2 KiB).
    const want = Math.min(5000, Math.max(40, q.limit * (q.groupBy === 'record' ? 4 : 20))) + (probe.excludeRecordId ? 1 : 0);
    const { ids, considered } = identityIds?.length === 0 ? { ids: [], considered: 0 } : this.index.candidates(probe.vector, want, filter);

    // Exact comparison with the stored features, and the filters checked again on the records as they are now.
    const scored: { id: string; identityId: string | null; similarity: number }[] = [];
    for (let i = 0; i < ids.length; i += CHUNK) {
      const chunk = ids.slice(i, i + CHUNK);
      const rows = await this.records.faceVectorsOf(chunk);
      const found = new Set(rows.map((r) => r.recordId));
      for (const id of chunk) if (!found.has(id)) this.index.forget(id);
      for (const r of rows) {
        const v = unitVector(r.feature);
        if (!v) {
          this.index.forget(r.recordId);
          continue;
        }
        if (r.recordId === probe.excludeRecordId || !passes(r, filter)) continue;
        const similarity = cosine(probe.vector, v);
        if (similarity >= minSimilarity) scored.push({ id: r.recordId, identityId: r.identityId, similarity });
      }
    }
    scored.sort((a, b) => b.similarity - a.similarity || (a.id < b.id ? -1 : 1));

    const identityList = [...new Set(scored.map((s) => s.identityId).filter((id): id is string => id !== null))];
    const personOf = identityList.length ? await this.resolver.personIdsOf(identityList) : new Map<string, string>();
    const groupKey = (s: (typeof scored)[number]): string => {
      if (q.groupBy === 'record' || s.identityId === null) return `record:${s.id}`;
      return q.groupBy === 'identity' ? s.identityId : (personOf.get(s.identityId) ?? s.identityId);
    };
    const seen = new Set<string>();
    const best = [];
    for (const s of scored) {
      const key = groupKey(s);
      if (seen.has(key)) continue;
      seen.add(key);
      best.push(s);
      if (best.length === q.limit) break;
    }
    // The audit entry is written (its own transaction, durable before the answer) while the summaries are read; it
    // lists the records picked for the answer, so one erased in that instant is listed though not returned.
    const returned = best.map((b) => b.id);
    const [views] = await Promise.all([
      this.records.viewsOf(returned).then((vs) => new Map(vs.map((v) => [v.id, v]))),
      this.uow.run((m) =>
        this.audit.recordIn(m, {
          actor,
          action: 'face.search',
          subjectType: probe.subject === 'feature' ? 'feature' : probe.excludeRecordId ? 'recognition-record' : 'face',
          subjectId: probe.subject,
          details: {
            limit: q.limit,
            minSimilarity,
            groupBy: q.groupBy,
            filters: Object.fromEntries(
              Object.entries({ ...filter, identityIds: undefined, personId: q.personId, identityId: q.identityId }).filter(
                ([, v]) => v !== undefined,
              ),
            ),
            returned,
          },
        }),
      ),
    ]);
    const items: FaceSearchHit[] = best
      .filter((b) => views.has(b.id))
      .map((b) => {
        const record = views.get(b.id)!;
        const personId = record.identityId ? (personOf.get(record.identityId) ?? record.identityId) : null;
        return { similarity: Math.round(b.similarity * 1e6) / 1e6, record, personId };
      });
    return { items, searched: considered };
  }
}

function passes(
  r: { occurredAt: number; boxId: string; mediaDeviceId: string; userType: string | null; identityId: string | null },
  f: IndexFilter,
): boolean {
  if (f.from !== undefined && r.occurredAt < f.from) return false;
  if (f.to !== undefined && r.occurredAt >= f.to) return false;
  if (f.boxId !== undefined && r.boxId !== f.boxId) return false;
  if (f.mediaDeviceId !== undefined && r.mediaDeviceId !== f.mediaDeviceId) return false;
  if (f.userType !== undefined && r.userType !== f.userType) return false;
  if (f.identityIds && (r.identityId === null || !f.identityIds.includes(r.identityId))) return false;
  return true;
}

/** A feature given in the request: base64 of 512 little-endian float32, or 512 numbers. */
function featureProbe(value: unknown): Float32Array {
  let floats: ArrayLike<number>;
  if (typeof value === 'string') {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value)) throw invalidProbe('feature', 'feature must be base64 (or an array of numbers)');
    const bytes = Buffer.from(value, 'base64');
    if (bytes.byteLength !== FACE_DIMENSIONS * 4) {
      throw invalidProbe(
        'feature',
        `feature must be ${FACE_DIMENSIONS} float32 (${FACE_DIMENSIONS * 4} bytes), got ${bytes.byteLength} bytes`,
      );
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    floats = Float32Array.from({ length: FACE_DIMENSIONS }, (_, i) => view.getFloat32(i * 4, true));
  } else if (Array.isArray(value)) {
    if (value.length !== FACE_DIMENSIONS)
      throw invalidProbe('feature', `feature must have ${FACE_DIMENSIONS} numbers, got ${value.length}`);
    if (!value.every((x) => typeof x === 'number')) throw invalidProbe('feature', 'feature must hold numbers only');
    floats = Float32Array.from(value as number[]);
  } else {
    throw invalidProbe('feature', 'feature must be base64 or an array of numbers');
  }
  for (let i = 0; i < floats.length; i++) {
    if (!Number.isFinite(floats[i])) throw invalidProbe('feature', 'feature holds a value that is not a finite float32');
  }
  const unit = normalised(floats);
  if (!unit) throw invalidProbe('feature', 'feature must not be all zeros');
  return unit;
}
