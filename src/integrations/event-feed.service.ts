import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config.service';
import { DevicesService } from '../devices/devices.service';
import { OutboxEntry, OutboxReader } from '../events/outbox-reader.service';
import { RecordsQueryService } from '../recognition-records/records-query.service';
import { IMAGE_ROLES, ImageRole } from '../recognition-records/recognition-record.types';
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

/**
 * Reads domain events from the outbox (OutboxReader) in id order, with what their record (the outbox
 * aggregate id of record events) adds for filtering and image links, resolved through the records and
 * devices modules. Rows stay in the outbox after relay until retention purges them, so this is also the
 * replay source for resuming streams.
 */
@Injectable()
export class EventFeedService {
  constructor(
    private readonly outbox: OutboxReader,
    private readonly records: RecordsQueryService,
    private readonly devices: DevicesService,
    private readonly config: AppConfig,
  ) {}

  /**
   * Up to `limit` events after `after` (and up to `upTo`) that pass the filter; fewer only when the range is
   * exhausted. Box and user-type filters need the record, so they are applied here with matchesFilter, the
   * same test live events get, reading on through the outbox until the page is full.
   */
  async read(opts: { after: number; upTo?: number; limit: number; filter?: FeedFilter }): Promise<FeedEvent[]> {
    const f = opts.filter ?? {};
    const byRecord = Boolean(f.box || f.userTypes?.length);
    const out: FeedEvent[] = [];
    let after = opts.after;
    for (;;) {
      const entries = await this.outbox.readAfter({ after, upTo: opts.upTo, limit: opts.limit, types: f.types });
      for (const e of await this.resolve(entries)) {
        if (byRecord && !matchesFilter(e, f)) continue;
        out.push(e);
        if (out.length === opts.limit) return out;
      }
      if (entries.length < opts.limit) return out;
      after = entries[entries.length - 1].id;
    }
  }

  async one(eventId: number): Promise<FeedEvent | null> {
    const entry = await this.outbox.one(eventId);
    return entry ? (await this.resolve([entry]))[0] : null;
  }

  /** Several events by id (a relayed batch), in id order; ids no longer in the outbox are left out. */
  async many(eventIds: number[]): Promise<FeedEvent[]> {
    return this.resolve(await this.outbox.byIds(eventIds));
  }

  /** Ids and write times of the rows after `after` (a primary-key range read). */
  idsAfter(after: number): Promise<{ id: number; createdAt: number }[]> {
    return this.outbox.idsAfter(after);
  }

  maxId(): Promise<number> {
    return this.outbox.maxId();
  }

  /** Outbox entries as consumers see them, with their record's box, license key, user type and image links. */
  private async resolve(entries: OutboxEntry[]): Promise<FeedEvent[]> {
    const facts = await this.records.feedFacts(entries.map((e) => e.aggregateId));
    const licenseKeys = await this.devices.licenseKeys([...facts.values()].map((r) => r.boxId));
    return entries.map((e) => {
      const record = facts.get(e.aggregateId);
      // The stored payload is internal; consumers get the event's public DTO (./event-envelope.ts).
      const event = rehydrateEvent(e.type, e.payload, { eventId: e.id, occurredAt: e.createdAt });
      let images: ImageLinks | undefined;
      if (record) {
        images = {};
        for (const role of IMAGE_ROLES) if (record.imageSha256[role]) images[role] = this.imageUrl(e.aggregateId, role);
      }
      return {
        id: e.id,
        type: e.type,
        // From the record, as read()'s filter sees them, so a replay matches what went live.
        boxId: record?.boxId ?? null,
        licenseKey: record ? (licenseKeys.get(record.boxId) ?? null) : null,
        userType: record?.userType ?? null,
        envelope: toEnvelope({ id: e.id, type: e.type, createdAt: e.createdAt }, event, images),
      };
    });
  }

  /** The REST endpoint that serves the image to biometric-readers (relative when PUBLIC_BASE_URL is unset). */
  private imageUrl(recordId: string, role: ImageRole): string {
    return `${this.config.get('PUBLIC_BASE_URL') ?? ''}/records/${recordId}/images/${role}`;
  }
}

/** Whether an event passes a stream filter (live events in the hub, and replays in read()). */
export function matchesFilter(e: FeedEvent, f: FeedFilter): boolean {
  if (f.types?.length && !f.types.includes(e.type)) return false;
  if (f.box && e.boxId !== f.box && e.licenseKey !== f.box) return false;
  if (f.userTypes?.length && (e.userType === null || !f.userTypes.includes(e.userType))) return false;
  return true;
}
