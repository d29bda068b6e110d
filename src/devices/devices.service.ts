import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { UnitOfWork } from '../database/unit-of-work';
import { MediaDeviceReport } from '../recognition-records/recognition-record.types';

export interface BoxSighting {
  licenseKey: string;
  apiVersion: string | null;
  address: string | null;
  seenAt: number;
}

/** Boxes and media devices, registered on first sight and kept current by every push. */
@Injectable()
export class DevicesService {
  constructor(private readonly uow: UnitOfWork) {}

  /** Insert-or-update the box in the caller's transaction; returns its id. */
  async recordBoxSighting(manager: EntityManager, s: BoxSighting): Promise<string> {
    const d = this.uow.dialect;
    const rows: { id: string }[] = await manager.query(
      `INSERT INTO boxes (id, license_key, name, enabled, api_version, last_address, first_seen_at, last_seen_at)
       VALUES (${d.p(1)}, ${d.p(2)}, NULL, ${d.bool(true)}, ${d.params(3, 4)})
       ON CONFLICT (license_key) DO UPDATE SET
         api_version = COALESCE(excluded.api_version, boxes.api_version),
         last_address = COALESCE(excluded.last_address, boxes.last_address),
         last_seen_at = ${d.greatest('boxes.last_seen_at', 'excluded.last_seen_at')}
       RETURNING id`,
      [randomUUID(), s.licenseKey, s.apiVersion, s.address, s.seenAt, s.seenAt],
    );
    return rows[0].id;
  }

  /** The most recently seen boxes, newest first. */
  async lastSeenBoxes(limit: number): Promise<{ licenseKey: string; lastSeenAt: number }[]> {
    const rows: { license_key: string; last_seen_at: number | string }[] = await this.uow.dataSource.query(
      `SELECT license_key, last_seen_at FROM boxes ORDER BY last_seen_at DESC LIMIT ${this.uow.dialect.p(1)}`,
      [limit],
    );
    return rows.map((r) => ({ licenseKey: r.license_key, lastSeenAt: Number(r.last_seen_at) }));
  }

  async recordMediaDeviceSighting(manager: EntityManager, boxId: string, m: MediaDeviceReport, seenAt: number): Promise<string> {
    const d = this.uow.dialect;
    const rows: { id: string }[] = await manager.query(
      `INSERT INTO media_devices (id, box_id, device_id, type, ip, name, url, first_seen_at, last_seen_at)
       VALUES (${d.params(1, 9)})
       ON CONFLICT (box_id, device_id) DO UPDATE SET
         type = COALESCE(excluded.type, media_devices.type),
         ip = COALESCE(excluded.ip, media_devices.ip),
         name = COALESCE(excluded.name, media_devices.name),
         url = COALESCE(excluded.url, media_devices.url),
         last_seen_at = ${d.greatest('media_devices.last_seen_at', 'excluded.last_seen_at')}
       RETURNING id`,
      [randomUUID(), boxId, m.deviceId, m.type, m.ip, m.name, m.url, seenAt, seenAt],
    );
    return rows[0].id;
  }
}
