import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config.service';
import { UnitOfWork } from '../database/unit-of-work';
import { IMAGE_ROLES, ImageRole } from '../recognition-records/recognition-record.types';
import { rowJson } from '../database/row-values';
import { rehydrateEvent } from '../events/domain-events';
import { EventEnvelope, ImageLinks, toEnvelope } from './event-envelope';

/** An envelope with what stream filters match on. */
export interface FeedEvent {
  id: number;
  type: string;
  boxId: string | null;
  licenseKey: string | null;
  userType: string | null;
  envelope: EventEnvelope;
}

export interface FeedFilter {
  types?: string[];
  /** Box id or license key. */
  box?: string;
  userTypes?: string[];
}

interface FeedRow {
  id: number | string;
  type: string;
  payload: string | Record<string, unknown>;
  created_at: number | string;
  record_id: string | null;
  box_id: string | null;
  license_key: string | null;
  user_type: string | null;
  reg_image_sha256: string | null;
  spot_image_sha256: string | null;
  ir_image_sha256: string | null;
  face_image_sha256: string | null;
}

const IMAGE_COLUMNS: Record<ImageRole, keyof FeedRow> = {
  registered: 'reg_image_sha256',
  scene: 'spot_image_sha256',
  infrared: 'ir_image_sha256',
  face: 'face_image_sha256',
};

/**
 * Reads domain events from the outbox in id order, joined to their record (the outbox aggregate id of
 * record events) for filtering and image links. Rows stay in the outbox after relay until retention
 * purges them, so this is also the replay source for resuming streams.
 */
@Injectable()
export class EventFeedService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly config: AppConfig,
  ) {}

  async read(opts: { after: number; upTo?: number; limit: number; filter?: FeedFilter }): Promise<FeedEvent[]> {
    const d = this.uow.dialect;
    const params: unknown[] = [opts.after];
    const where = [`o.id > ${d.p(1)}`];
    const add = (sql: (p: string) => string, value: unknown) => {
      params.push(value);
      where.push(sql(d.p(params.length)));
    };
    if (opts.upTo !== undefined) add((p) => `o.id <= ${p}`, opts.upTo);
    const f = opts.filter ?? {};
    if (f.types?.length) {
      const first = params.length + 1;
      params.push(...f.types);
      where.push(`o.type IN (${d.params(first, f.types.length)})`);
    }
    if (f.box) {
      params.push(f.box, f.box);
      where.push(`(r.box_id = ${d.p(params.length - 1)} OR b.license_key = ${d.p(params.length)})`);
    }
    if (f.userTypes?.length) {
      const first = params.length + 1;
      params.push(...f.userTypes);
      where.push(`r.user_type IN (${d.params(first, f.userTypes.length)})`);
    }
    params.push(opts.limit);
    const rows: FeedRow[] = await this.uow.dataSource.query(
      `SELECT o.id, o.type, o.payload, o.created_at, r.id AS record_id, r.box_id, b.license_key, r.user_type,
              r.reg_image_sha256, r.spot_image_sha256, r.ir_image_sha256, r.face_image_sha256
       FROM outbox_events o
       LEFT JOIN recognition_records r ON r.id = o.aggregate_id
       LEFT JOIN boxes b ON b.id = r.box_id
       WHERE ${where.join(' AND ')}
       ORDER BY o.id LIMIT ${d.p(params.length)}`,
      params,
    );
    return rows.map((r) => this.toFeedEvent(r));
  }

  async one(eventId: number): Promise<FeedEvent | null> {
    const [event] = await this.read({ after: eventId - 1, upTo: eventId, limit: 1 });
    return event ?? null;
  }

  /** Ids and write times of the rows after `after` (a primary-key range read). */
  async idsAfter(after: number): Promise<{ id: number; createdAt: number }[]> {
    const rows: { id: number | string; created_at: number | string }[] = await this.uow.dataSource.query(
      `SELECT id, created_at FROM outbox_events WHERE id > ${this.uow.dialect.p(1)} ORDER BY id`,
      [after],
    );
    return rows.map((r) => ({ id: Number(r.id), createdAt: Number(r.created_at) }));
  }

  async maxId(): Promise<number> {
    const rows: { m: number | string | null }[] = await this.uow.dataSource.query('SELECT MAX(id) AS m FROM outbox_events');
    return Number(rows[0]?.m ?? 0);
  }

  private toFeedEvent(r: FeedRow): FeedEvent {
    const id = Number(r.id);
    const createdAt = Number(r.created_at);
    // The stored payload is internal; consumers get the event's public DTO (./event-envelope.ts).
    const event = rehydrateEvent(r.type, rowJson<Record<string, unknown>>(r.payload) ?? {}, { eventId: id, occurredAt: createdAt });
    let images: ImageLinks | undefined;
    if (r.record_id) {
      images = {};
      for (const role of IMAGE_ROLES) if (r[IMAGE_COLUMNS[role]]) images[role] = this.imageUrl(r.record_id, role);
    }
    return {
      id,
      type: r.type,
      // From the record row, as read()'s SQL filter sees them, so a replay matches what went live.
      boxId: r.box_id,
      licenseKey: r.license_key,
      userType: r.user_type,
      envelope: toEnvelope({ id, type: r.type, createdAt }, event, images),
    };
  }

  /** The REST endpoint that serves the image to biometric-readers (relative when PUBLIC_BASE_URL is unset). */
  private imageUrl(recordId: string, role: ImageRole): string {
    return `${this.config.get('PUBLIC_BASE_URL') ?? ''}/records/${recordId}/images/${role}`;
  }
}

/** Whether an event passes a stream filter (the in-memory twin of read()'s SQL filter). */
export function matchesFilter(e: FeedEvent, f: FeedFilter): boolean {
  if (f.types?.length && !f.types.includes(e.type)) return false;
  if (f.box && e.boxId !== f.box && e.licenseKey !== f.box) return false;
  if (f.userTypes?.length && (e.userType === null || !f.userTypes.includes(e.userType))) return false;
  return true;
}
