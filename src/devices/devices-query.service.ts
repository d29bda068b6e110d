import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { decodeCursor, encodeCursor } from '../common/cursor';
import { DomainError } from '../common/domain-error';
import { rowBool } from '../database/row-values';
import { UnitOfWork } from '../database/unit-of-work';
import { RecordsStore } from '../recognition-records/records-store.service';
import { DevicesService } from './devices.service';
import { BoxDetailDto, BoxDto, BoxPageDto, MediaDeviceDto } from './dto/device.dto';

type Row = Record<string, unknown>;

/** user:password in an RTSP URL is a camera credential: never shown. */
export function redactUrl(url: string | null): string | null {
  if (!url) return url;
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
}

function toBox(r: Row): BoxDto {
  return {
    id: r.id as string,
    licenseKey: r.license_key as string,
    name: (r.name as string | null) ?? null,
    enabled: rowBool(r.enabled),
    apiVersion: (r.api_version as string | null) ?? null,
    lastAddress: (r.last_address as string | null) ?? null,
    firstSeenAt: Number(r.first_seen_at),
    lastSeenAt: Number(r.last_seen_at),
    mediaDeviceCount: Number(r.media_device_count ?? 0),
    recordCount: Number(r.record_count ?? 0),
  };
}

function toMediaDevice(r: Row): MediaDeviceDto {
  return {
    id: r.id as string,
    boxId: r.box_id as string,
    deviceId: r.device_id as string,
    type: (r.type as string | null) ?? null,
    ip: (r.ip as string | null) ?? null,
    name: (r.name as string | null) ?? null,
    url: redactUrl((r.url as string | null) ?? null),
    firstSeenAt: Number(r.first_seen_at),
    lastSeenAt: Number(r.last_seen_at),
    recordCount: Number(r.record_count ?? 0),
  };
}

export interface BoxChange {
  name?: string | null;
  enabled?: boolean;
}

/** Boxes and media devices for the consumer API, with their record counts. */
@Injectable()
export class DevicesQueryService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly audit: AuditService,
    private readonly devices: DevicesService,
    private readonly records: RecordsStore,
  ) {}

  private boxesSql(where: string): string {
    return `SELECT b.id, b.license_key, b.name, b.enabled, b.api_version, b.last_address, b.first_seen_at, b.last_seen_at,
              (SELECT COUNT(*) FROM media_devices m WHERE m.box_id = b.id) AS media_device_count
            FROM boxes b ${where}
            ORDER BY b.first_seen_at ASC, b.id ASC`;
  }

  /** Boxes in the order they first pushed, keyset-paginated like the other lists. */
  async listBoxes(limit: number, cursor?: string): Promise<BoxPageDto> {
    const d = this.uow.dialect;
    let where = '';
    const params: unknown[] = [];
    if (cursor) {
      const after = decodeCursor<{ t: number; id: string }>(cursor, { t: 'number', id: 'string' });
      params.push(after.t, after.id);
      where = `WHERE (b.first_seen_at, b.id) > (${d.p(1)}, ${d.p(2)})`;
    }
    params.push(limit + 1);
    const rows: Row[] = await this.uow.dataSource.query(`${this.boxesSql(where)} LIMIT ${d.p(params.length)}`, params);
    const items = await this.withRecordCounts(rows.slice(0, limit).map(toBox));
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit ? encodeCursor({ t: last.firstSeenAt, id: last.id }) : null };
  }

  async getBox(id: string): Promise<BoxDetailDto> {
    const d = this.uow.dialect;
    const rows: Row[] = await this.uow.dataSource.query(this.boxesSql(`WHERE b.id = ${d.p(1)}`), [id]);
    if (rows.length === 0) throw new DomainError('not_found', 'box_not_found', 'box not found', 'id');
    const devices: Row[] = await this.uow.dataSource.query(
      `SELECT m.* FROM media_devices m WHERE m.box_id = ${d.p(1)} ORDER BY m.first_seen_at ASC, m.id ASC`,
      [id],
    );
    const [box] = await this.withRecordCounts([toBox(rows[0])]);
    const mediaDevices = devices.map(toMediaDevice);
    const counts = await this.records.countsBy(
      'mediaDeviceId',
      mediaDevices.map((m) => m.id),
    );
    return { ...box, mediaDevices: mediaDevices.map((m) => ({ ...m, recordCount: counts.get(m.id) ?? 0 })) };
  }

  /** Record counts come from the records module, which owns recognition_records. */
  private async withRecordCounts(boxes: BoxDto[]): Promise<BoxDto[]> {
    const counts = await this.records.countsBy(
      'boxId',
      boxes.map((b) => b.id),
    );
    return boxes.map((b) => ({ ...b, recordCount: counts.get(b.id) ?? 0 }));
  }

  /** Audited in the same transaction as the change; the change itself is DevicesService's. */
  async updateBox(id: string, change: BoxChange, actor: string): Promise<BoxDetailDto> {
    if (change.name !== undefined || change.enabled !== undefined) {
      await this.uow.run(async (m) => {
        if (change.name !== undefined) await this.devices.rename({ id }, change.name, m);
        if (change.enabled !== undefined) await this.devices.setEnabled({ id }, change.enabled, m);
        await this.audit.recordIn(m, { actor, action: 'box.updated', subjectType: 'box', subjectId: id, details: { ...change } });
      });
    }
    return this.getBox(id);
  }
}
