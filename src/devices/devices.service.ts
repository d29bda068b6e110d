import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager, In } from 'typeorm';
import { UnitOfWork } from '../database/unit-of-work';
import type { BoxSummary, MediaDeviceReport, MediaDeviceSummary } from './devices.types';
import { Box } from './entities/box.entity';
import { MediaDevice } from './entities/media-device.entity';

export interface BoxSighting {
  licenseKey: string;
  apiVersion: string | null;
  address: string | null;
  seenAt: number;
}

/** What the push access check needs of a registered box. */
export interface BoxAccessSettings {
  licenseKey: string;
  enabled: boolean;
  /** sha256 (hex) of the box's callback secret; null means the plain URL is accepted. */
  callbackTokenHash: string | null;
  /** CIDR networks the box may push from; null means any address. */
  allowedNetworks: string[] | null;
}

/** A box's operator settings (never the token hash itself). */
export interface BoxSettings {
  id: string;
  licenseKey: string;
  name: string | null;
  enabled: boolean;
  hasCallbackToken: boolean;
  allowedNetworks: string[] | null;
}

/** A box named by its id (consumer API) or by its license key (box pushes, CLI). */
export type BoxRef = { id: string } | { licenseKey: string };

/**
 * Boxes and media devices, registered on first sight and kept current by every push. This module owns the
 * `boxes` and `media_devices` tables: other modules read and change them only through these methods.
 * Methods that take an optional manager join the caller's transaction; without one they run their own.
 */
@Injectable()
export class DevicesService {
  constructor(private readonly uow: UnitOfWork) {}

  private write<T>(manager: EntityManager | undefined, work: (m: EntityManager) => Promise<T>): Promise<T> {
    // Through the UnitOfWork: on SQLite a write outside it could join (and roll back with) another transaction.
    return manager ? work(manager) : this.uow.run(work);
  }

  /** Access settings of those of these license keys that are registered. */
  async accessSettings(licenseKeys: string[]): Promise<BoxAccessSettings[]> {
    if (licenseKeys.length === 0) return [];
    const boxes = await this.uow.dataSource.getRepository(Box).find({
      select: { licenseKey: true, enabled: true, callbackTokenHash: true, allowedNetworks: true },
      where: { licenseKey: In(licenseKeys) },
    });
    return boxes.map((b) => ({
      licenseKey: b.licenseKey,
      enabled: b.enabled,
      callbackTokenHash: b.callbackTokenHash,
      allowedNetworks: b.allowedNetworks,
    }));
  }

  /** License keys of these box ids, for those that exist. */
  async licenseKeys(boxIds: string[]): Promise<Map<string, string>> {
    const unique = [...new Set(boxIds)];
    if (unique.length === 0) return new Map();
    const boxes = await this.uow.dataSource.getRepository(Box).find({ select: { id: true, licenseKey: true }, where: { id: In(unique) } });
    return new Map(boxes.map((b) => [b.id, b.licenseKey]));
  }

  /** Names of those of these boxes that exist, by id: one query for a whole page of records. */
  async boxSummaries(boxIds: string[]): Promise<Map<string, BoxSummary>> {
    const unique = [...new Set(boxIds)];
    if (unique.length === 0) return new Map();
    const boxes = await this.uow.dataSource.getRepository(Box).find({
      select: { id: true, name: true, licenseKey: true },
      where: { id: In(unique) },
    });
    return new Map(boxes.map((b) => [b.id, { id: b.id, name: b.name, licenseKey: b.licenseKey }]));
  }

  /** Names of those of these media devices that exist, by id: one query for a whole page of records. */
  async mediaDeviceSummaries(ids: string[]): Promise<Map<string, MediaDeviceSummary>> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return new Map();
    const devices = await this.uow.dataSource.getRepository(MediaDevice).find({
      select: { id: true, deviceId: true, name: true, type: true },
      where: { id: In(unique) },
    });
    return new Map(devices.map((m) => [m.id, { id: m.id, deviceId: m.deviceId, name: m.name, type: m.type }]));
  }

  async settings(licenseKey: string): Promise<BoxSettings | null> {
    const box = await this.uow.dataSource.getRepository(Box).findOneBy({ licenseKey });
    return box ? toSettings(box) : null;
  }

  /** Registers a box ahead of its first push (needed when BOX_AUTH_MODE=registered); idempotent; names it if a name is given. */
  register(licenseKey: string, name?: string, manager?: EntityManager): Promise<BoxSettings> {
    return this.write(manager, async (m) => {
      const repo = m.getRepository(Box);
      const existing = await repo.findOneBy({ licenseKey });
      if (existing) {
        if (name !== undefined) {
          await repo.update({ licenseKey }, { name });
          existing.name = name;
        }
        return toSettings(existing);
      }
      const now = Date.now();
      // ON CONFLICT DO NOTHING: a push may register the same box meanwhile (PostgreSQL).
      await repo
        .createQueryBuilder()
        .insert()
        .values({
          id: randomUUID(),
          licenseKey,
          name: name ?? null,
          enabled: true,
          apiVersion: null,
          lastAddress: null,
          firstSeenAt: now,
          lastSeenAt: now,
          callbackTokenHash: null,
          allowedNetworks: null,
        })
        .orIgnore()
        .execute();
      return toSettings((await repo.findOneBy({ licenseKey }))!);
    });
  }

  /** The only writer of `boxes.enabled`: a disabled box's pushes are refused. */
  async setEnabled(box: BoxRef, enabled: boolean, manager?: EntityManager): Promise<void> {
    await this.write(manager, (m) => m.getRepository(Box).update(box, { enabled }));
  }

  async rename(box: BoxRef, name: string | null, manager?: EntityManager): Promise<void> {
    await this.write(manager, (m) => m.getRepository(Box).update(box, { name }));
  }

  /** Stores only the hash of the box's callback secret; null accepts the plain callback URL again. */
  async setCallbackTokenHash(licenseKey: string, hash: string | null, manager?: EntityManager): Promise<void> {
    await this.write(manager, (m) => m.getRepository(Box).update({ licenseKey }, { callbackTokenHash: hash }));
  }

  /** Already-validated CIDR networks; null allows any address. */
  async setAllowedNetworks(licenseKey: string, networks: string[] | null, manager?: EntityManager): Promise<void> {
    await this.write(manager, (m) => m.getRepository(Box).update({ licenseKey }, { allowedNetworks: networks }));
  }

  /**
   * Insert-or-update the box in the caller's transaction; returns its id. Raw SQL: this runs for every push (ingest
   * hot path) and needs one upsert with COALESCE/GREATEST that the query builder cannot express portably.
   */
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
    const boxes = await this.uow.dataSource.getRepository(Box).find({
      select: { licenseKey: true, lastSeenAt: true },
      order: { lastSeenAt: 'DESC' },
      take: limit,
    });
    return boxes.map((b) => ({ licenseKey: b.licenseKey, lastSeenAt: b.lastSeenAt }));
  }

  /** Insert-or-update the media device in the caller's transaction; returns its id (raw SQL as recordBoxSighting). */
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

function toSettings(box: Box): BoxSettings {
  return {
    id: box.id,
    licenseKey: box.licenseKey,
    name: box.name,
    enabled: box.enabled,
    hasCallbackToken: box.callbackTokenHash !== null,
    allowedNetworks: box.allowedNetworks,
  };
}
