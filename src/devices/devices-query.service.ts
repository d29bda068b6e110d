import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { decodeCursor, encodeCursor } from '../common/cursor';
import { DomainError } from '../common/domain-error';
import { UnitOfWork } from '../database/unit-of-work';
import { DevicesService } from './devices.service';
import { DeviceRecordCounts } from './devices.types';
import { BoxDetailDto, BoxDto, BoxPageDto, MediaDeviceDto } from './dto/device.dto';
import { Box } from './entities/box.entity';
import { MediaDevice } from './entities/media-device.entity';

/** user:password in an RTSP URL is a camera credential: never shown. */
export function redactUrl(url: string | null): string | null {
  if (!url) return url;
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
}

function toBox(b: Box, mediaDeviceCount: number, recordCount: number): BoxDto {
  return {
    id: b.id,
    licenseKey: b.licenseKey,
    name: b.name,
    enabled: b.enabled,
    apiVersion: b.apiVersion,
    lastAddress: b.lastAddress,
    firstSeenAt: b.firstSeenAt,
    lastSeenAt: b.lastSeenAt,
    mediaDeviceCount,
    recordCount,
  };
}

function toMediaDevice(m: MediaDevice, recordCount: number): MediaDeviceDto {
  return {
    id: m.id,
    boxId: m.boxId,
    deviceId: m.deviceId,
    type: m.type,
    ip: m.ip,
    name: m.name,
    url: redactUrl(m.url),
    firstSeenAt: m.firstSeenAt,
    lastSeenAt: m.lastSeenAt,
    recordCount,
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
    private readonly recordCounts: DeviceRecordCounts,
  ) {}

  /** Boxes in the order they first pushed, keyset-paginated like the other lists. */
  async listBoxes(limit: number, cursor?: string): Promise<BoxPageDto> {
    const qb = this.uow.dataSource.getRepository(Box).createQueryBuilder('b');
    if (cursor) {
      const after = decodeCursor<{ t: number; id: string }>(cursor, { t: 'number', id: 'string' });
      qb.where('(b.firstSeenAt, b.id) > (:afterT, :afterId)', { afterT: after.t, afterId: after.id });
    }
    const rows = await qb
      .orderBy('b.firstSeenAt', 'ASC')
      .addOrderBy('b.id', 'ASC')
      .limit(limit + 1)
      .getMany();
    const items = await this.withCounts(rows.slice(0, limit));
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit ? encodeCursor({ t: last.firstSeenAt, id: last.id }) : null };
  }

  async getBox(id: string): Promise<BoxDetailDto> {
    const box = await this.uow.dataSource.getRepository(Box).findOneBy({ id });
    if (!box) throw new DomainError('not_found', 'box_not_found', 'box not found', 'id');
    const devices = await this.uow.dataSource
      .getRepository(MediaDevice)
      .find({ where: { boxId: id }, order: { firstSeenAt: 'ASC', id: 'ASC' } });
    const [[dto], counts] = await Promise.all([
      this.withCounts([box]),
      this.recordCounts.countsBy(
        'mediaDeviceId',
        devices.map((m) => m.id),
      ),
    ]);
    return { ...dto, mediaDevices: devices.map((m) => toMediaDevice(m, counts.get(m.id) ?? 0)) };
  }

  /** Media device counts per box (one grouped query), and record counts from the records module, which owns them. */
  private async withCounts(boxes: Box[]): Promise<BoxDto[]> {
    const ids = boxes.map((b) => b.id);
    if (ids.length === 0) return [];
    const [deviceRows, recordCounts] = await Promise.all([
      this.uow.dataSource
        .getRepository(MediaDevice)
        .createQueryBuilder('m')
        .select('m.boxId', 'id')
        .addSelect('COUNT(*)', 'n')
        .where('m.boxId IN (:...ids)', { ids })
        .groupBy('m.boxId')
        .getRawMany<{ id: string; n: number | string }>(),
      this.recordCounts.countsBy('boxId', ids),
    ]);
    const deviceCounts = new Map(deviceRows.map((r) => [r.id, Number(r.n)]));
    return boxes.map((b) => toBox(b, deviceCounts.get(b.id) ?? 0, recordCounts.get(b.id) ?? 0));
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
