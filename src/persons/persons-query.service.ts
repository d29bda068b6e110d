import { Injectable } from '@nestjs/common';
import { decodeCursor, encodeCursor } from '../common/cursor';
import { rowNumber } from '../database/row-values';
import { UnitOfWork } from '../database/unit-of-work';
import { IdentitiesService } from '../identities/identities.service';
import {
  PersonDetailDto,
  PersonDto,
  PersonPageDto,
  PresencePageDto,
  SightingDto,
  SuggestionDto,
  SuggestionListDto,
} from './dto/person.dto';
import { personNotFound } from './person-errors';

type Row = Record<string, unknown>;

export interface PersonFilter {
  userType?: string;
  boxId?: string;
}

export interface PresenceFilter {
  since: number;
  boxId?: string;
  mediaDeviceId?: string;
  userType?: string;
}

function toPersonDto(r: Row): PersonDto {
  const last = Number(r.last_seen_at);
  return {
    id: r.id as string,
    identityCount: Number(r.identity_count),
    userType: (r.last_user_type as string | null) ?? null,
    firstSeenAt: rowNumber(r.first_seen_at),
    lastSeenAt: last > 0 ? last : null,
    lastSeen:
      last > 0 && r.last_record_id
        ? {
            at: last,
            boxId: r.last_box_id as string,
            mediaDeviceId: r.last_media_device_id as string,
            recordId: r.last_record_id as string,
          }
        : null,
  };
}

function toSuggestionDto(r: Row): SuggestionDto {
  return {
    id: r.id as string,
    personId: r.person_id as string,
    identityId: r.identity_id as string,
    similarity: Number(r.similarity),
    status: r.status as string,
    createdAt: Number(r.created_at),
    decidedAt: rowNumber(r.decided_at),
    decidedBy: (r.decided_by as string | null) ?? null,
  };
}

/** Persons, suggestions and presence for the consumer API (ids, names and image links; never biometrics). */
@Injectable()
export class PersonsQueryService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly identities: IdentitiesService,
  ) {}

  /** Most recently seen first (never seen last), keyset-paginated by (last_seen_at, id). */
  async list(f: PersonFilter, limit: number, cursor?: string): Promise<PersonPageDto> {
    const d = this.uow.dialect;
    const where: string[] = [];
    const params: unknown[] = [];
    const p = (v: unknown) => {
      params.push(v);
      return d.p(params.length);
    };
    if (f.userType) where.push(`p.last_user_type = ${p(f.userType)}`);
    if (f.boxId)
      where.push(`EXISTS (SELECT 1 FROM person_identities pi JOIN identity_sightings s ON s.identity_id = pi.identity_id
                           WHERE pi.person_id = p.id AND s.box_id = ${p(f.boxId)})`);
    if (cursor) {
      const after = decodeCursor<{ t: number; id: string }>(cursor, { t: 'number', id: 'string' });
      where.push(`(p.last_seen_at, p.id) < (${p(after.t)}, ${p(after.id)})`);
    }
    const rows: Row[] = await this.uow.dataSource.query(
      `SELECT p.*, (SELECT COUNT(*) FROM person_identities pi WHERE pi.person_id = p.id) AS identity_count
       FROM persons p ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY p.last_seen_at DESC, p.id DESC LIMIT ${p(limit + 1)}`,
      params,
    );
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items: items.map(toPersonDto),
      nextCursor: rows.length > limit ? encodeCursor({ t: Number(last.last_seen_at), id: last.id as string }) : null,
    };
  }

  async get(id: string): Promise<PersonDetailDto> {
    const d = this.uow.dialect;
    const ds = this.uow.dataSource;
    const rows: Row[] = await ds.query(
      `SELECT p.*, (SELECT COUNT(*) FROM person_identities pi WHERE pi.person_id = p.id) AS identity_count
       FROM persons p WHERE p.id = ${d.p(1)}`,
      [id],
    );
    if (rows.length === 0) throw personNotFound();
    const members: Row[] = await ds.query(
      `SELECT identity_id, link_reason, linked_at, similarity FROM person_identities WHERE person_id = ${d.p(1)}`,
      [id],
    );
    const byId = new Map(members.map((r) => [r.identity_id as string, r]));
    const summaries = await this.identities.summaries([...byId.keys()]);
    const pending: { n: string | number }[] = await ds.query(
      `SELECT COUNT(*) AS n FROM person_suggestions WHERE person_id = ${d.p(1)} AND status = 'pending'`,
      [id],
    );
    return {
      ...toPersonDto(rows[0]),
      identities: summaries.map((s) => {
        const m = byId.get(s.id)!;
        return {
          ...s,
          linkReason: m.link_reason as string,
          linkedAt: Number(m.linked_at),
          similarity: m.similarity === null || m.similarity === undefined ? null : Number(m.similarity),
        };
      }),
      pendingSuggestions: Number(pending[0].n),
    };
  }

  async suggestions(personId: string): Promise<SuggestionListDto> {
    const d = this.uow.dialect;
    const exists: Row[] = await this.uow.dataSource.query(`SELECT id FROM persons WHERE id = ${d.p(1)}`, [personId]);
    if (exists.length === 0) throw personNotFound();
    const rows: Row[] = await this.uow.dataSource.query(
      `SELECT * FROM person_suggestions WHERE person_id = ${d.p(1)}
       ORDER BY CASE WHEN status = 'pending' THEN 0 ELSE 1 END, similarity DESC, id LIMIT 500`,
      [personId],
    );
    return { items: rows.map(toSuggestionDto) };
  }

  /**
   * Persons seen since `since` (matching the filters), each with its newest such sighting, newest first. Reads the
   * latest sighting per identity and media device, so it is one row per person whatever the number of records.
   */
  async presence(f: PresenceFilter, limit: number, cursor?: string): Promise<PresencePageDto> {
    const d = this.uow.dialect;
    const params: unknown[] = [];
    const p = (v: unknown) => {
      params.push(v);
      return d.p(params.length);
    };
    const where = [`s.last_seen_at >= ${p(f.since)}`];
    if (f.boxId) where.push(`s.box_id = ${p(f.boxId)}`);
    if (f.mediaDeviceId) where.push(`s.media_device_id = ${p(f.mediaDeviceId)}`);
    if (f.userType) where.push(`s.last_user_type = ${p(f.userType)}`);
    const outer = ['rn = 1'];
    if (cursor) {
      const after = decodeCursor<{ t: number; id: string }>(cursor, { t: 'number', id: 'string' });
      outer.push(`(last_seen_at, person_id) < (${p(after.t)}, ${p(after.id)})`);
    }
    const rows: Row[] = await this.uow.dataSource.query(
      `SELECT * FROM (
         SELECT pi.person_id, s.identity_id, s.box_id, s.media_device_id, s.last_seen_at, s.last_record_id, s.last_user_type,
                ROW_NUMBER() OVER (PARTITION BY pi.person_id ORDER BY s.last_seen_at DESC, s.last_record_id DESC) AS rn
         FROM identity_sightings s JOIN person_identities pi ON pi.identity_id = s.identity_id
         WHERE ${where.join(' AND ')}
       ) latest WHERE ${outer.join(' AND ')}
       ORDER BY last_seen_at DESC, person_id DESC LIMIT ${p(limit + 1)}`,
      params,
    );
    const items = rows.slice(0, limit).map((r) => ({
      personId: r.person_id as string,
      identityId: r.identity_id as string,
      userType: (r.last_user_type as string | null) ?? null,
      sighting: {
        at: Number(r.last_seen_at),
        boxId: r.box_id as string,
        mediaDeviceId: r.media_device_id as string,
        recordId: r.last_record_id as string,
      } satisfies SightingDto,
    }));
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit ? encodeCursor({ t: last.sighting.at, id: last.personId }) : null };
  }
}
