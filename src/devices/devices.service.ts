import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager, In } from 'typeorm';
import { chunks } from '../common/chunks';
import { rowBool } from '../database/row-values';
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

  /**
   * Access settings of those of these license keys that are registered. Read on every box push, so in plain SQL
   * (the repository's find() cost more CPU than the query itself: 6.6 % of the hub's CPU on small pushes), and
   * shared: the pushes that ask while a read is running are answered by one read started after it, which is never
   * older than their request (a box disabled before a push arrived is seen as disabled, as with a read per push).
   */
  accessSettings(licenseKeys: string[]): Promise<BoxAccessSettings[]> {
    if (licenseKeys.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.accessWaiting.push({ keys: licenseKeys, resolve, reject });
      if (!this.accessReading) void this.readAccessSettings();
    });
  }

  private readonly accessWaiting: { keys: string[]; resolve: (rows: BoxAccessSettings[]) => void; reject: (e: unknown) => void }[] = [];
  private accessReading = false;

  private async readAccessSettings(): Promise<void> {
    this.accessReading = true;
    try {
      while (this.accessWaiting.length > 0) {
        const waiting = this.accessWaiting.splice(0);
        try {
          const found = new Map<string, BoxAccessSettings>();
          for (const keys of chunks([...new Set(waiting.flatMap((w) => w.keys))])) {
            for (const r of await this.accessSettingsOf(keys)) found.set(r.licenseKey, r);
          }
          for (const w of waiting) w.resolve([...new Set(w.keys)].flatMap((k) => found.get(k) ?? []));
        } catch (e) {
          for (const w of waiting) w.reject(e);
        }
      }
    } finally {
      this.accessReading = false;
    }
  }

  private async accessSettingsOf(keys: string[]): Promise<BoxAccessSettings[]> {
    const rows: { license_key: string; enabled: boolean | number; callback_token_hash: string | null; allowed_networks: string | null }[] =
      await this.uow.dataSource.query(
        `SELECT license_key, enabled, callback_token_hash, allowed_networks FROM boxes
         WHERE license_key IN (${this.uow.dialect.params(1, keys.length)})`,
        keys,
      );
    return rows.map((b) => ({
      licenseKey: b.license_key,
      enabled: rowBool(b.enabled),
      callbackTokenHash: b.callback_token_hash,
      allowedNetworks: b.allowed_networks === null ? null : (JSON.parse(b.allowed_networks) as string[]),
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
   * Insert-or-update the boxes of a batch of sightings in the caller's transaction, one statement; returns the
   * box id of each license key. Several sightings of one box are folded first (one row may be upserted only once
   * per statement): the last non-null API version and address win, as if written one after another. Rows go in
   * key order, so concurrent batches lock shared boxes in the same order.
   */
  async recordBoxSightings(manager: EntityManager, sightings: BoxSighting[]): Promise<Map<string, string>> {
    const d = this.uow.dialect;
    const byKey = new Map<string, BoxSighting>();
    for (const s of sightings) {
      const prev = byKey.get(s.licenseKey);
      byKey.set(
        s.licenseKey,
        prev
          ? {
              licenseKey: s.licenseKey,
              apiVersion: s.apiVersion ?? prev.apiVersion,
              address: s.address ?? prev.address,
              seenAt: Math.max(s.seenAt, prev.seenAt),
            }
          : s,
      );
    }
    const rows = [...byKey.values()]
      .sort((a, b) => compare(a.licenseKey, b.licenseKey))
      .map((s) => [randomUUID(), s.licenseKey, d.boolParam(true), s.apiVersion, s.address, s.seenAt, s.seenAt]);
    const ids = new Map<string, string>();
    for (const chunk of d.valuesChunks(rows, 7)) {
      const returned: { id: string; license_key: string }[] = await manager.query(
        `INSERT INTO boxes (id, license_key, enabled, api_version, last_address, first_seen_at, last_seen_at)
         VALUES ${chunk.sql}
         ON CONFLICT (license_key) DO UPDATE SET
           api_version = COALESCE(excluded.api_version, boxes.api_version),
           last_address = COALESCE(excluded.last_address, boxes.last_address),
           last_seen_at = ${d.greatest('boxes.last_seen_at', 'excluded.last_seen_at')}
         RETURNING id, license_key`,
        chunk.params,
      );
      for (const r of returned) ids.set(r.license_key, r.id);
    }
    return ids;
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

  /**
   * Insert-or-update media devices in the caller's transaction, one statement, folded per (box, device) like
   * recordBoxSightings; returns the media device id under mediaDeviceKey(boxId, deviceId).
   */
  async recordMediaDeviceSightings(
    manager: EntityManager,
    sightings: { boxId: string; report: MediaDeviceReport; seenAt: number }[],
  ): Promise<Map<string, string>> {
    const d = this.uow.dialect;
    const byKey = new Map<string, { boxId: string; report: MediaDeviceReport; seenAt: number }>();
    for (const s of sightings) {
      const key = mediaDeviceKey(s.boxId, s.report.deviceId);
      const prev = byKey.get(key);
      const r = s.report;
      byKey.set(
        key,
        prev
          ? {
              boxId: s.boxId,
              report: {
                deviceId: r.deviceId,
                type: r.type ?? prev.report.type,
                ip: r.ip ?? prev.report.ip,
                name: r.name ?? prev.report.name,
                url: r.url ?? prev.report.url,
              },
              seenAt: Math.max(s.seenAt, prev.seenAt),
            }
          : s,
      );
    }
    const rows = [...byKey.entries()]
      .sort(([a], [b]) => compare(a, b))
      .map(([, { boxId, report: m, seenAt }]) => [randomUUID(), boxId, m.deviceId, m.type, m.ip, m.name, m.url, seenAt, seenAt]);
    const ids = new Map<string, string>();
    for (const chunk of d.valuesChunks(rows, 9)) {
      const returned: { id: string; box_id: string; device_id: string }[] = await manager.query(
        `INSERT INTO media_devices (id, box_id, device_id, type, ip, name, url, first_seen_at, last_seen_at)
         VALUES ${chunk.sql}
         ON CONFLICT (box_id, device_id) DO UPDATE SET
           type = COALESCE(excluded.type, media_devices.type),
           ip = COALESCE(excluded.ip, media_devices.ip),
           name = COALESCE(excluded.name, media_devices.name),
           url = COALESCE(excluded.url, media_devices.url),
           last_seen_at = ${d.greatest('media_devices.last_seen_at', 'excluded.last_seen_at')}
         RETURNING id, box_id, device_id`,
        chunk.params,
      );
      for (const r of returned) ids.set(mediaDeviceKey(r.box_id, r.device_id), r.id);
    }
    return ids;
  }
}

/** Key of a media device in the map recordMediaDeviceSightings returns. */
export function mediaDeviceKey(boxId: string, deviceId: string): string {
  return `${boxId}\u0000${deviceId}`;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
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
