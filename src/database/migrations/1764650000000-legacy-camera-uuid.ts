import { randomUUID } from 'node:crypto';
import { MigrationInterface, QueryRunner } from 'typeorm';

type Row = Record<string, unknown>;

/** What the legacy translation now uses as the camera's id: ep_info.device_id when a non-empty string. */
function cameraUuid(extra: Row | null): string | null {
  const info = extra?.media_device_info as Row | undefined;
  const id = info?.device_id;
  return typeof id === 'string' && id.trim() !== '' ? id : null;
}

const parse = (v: unknown): Row | null => (typeof v === 'string' ? (JSON.parse(v) as Row) : ((v as Row | null) ?? null));

/**
 * Older-firmware records used to take `ep_info.ep_id` as the media device id, and kept the camera's uuid
 * (`ep_info.device_id`, what v2.0 firmware sends as media_device_id) in `extra`: a camera whose box was upgraded
 * appeared as two media devices. Records stored that way are moved to the device named by the uuid, as the
 * translation now stores them: the device row is renamed when all its records go to one uuid and no device has
 * that id yet, otherwise records move to the uuid's device (made if needed) and an emptied device is removed.
 * `ep_id` goes to `extra.media_device_info.ep_id`. A record whose event is already stored under the uuid (the
 * same event twice) is left where it is. Data only; `down` leaves the data as it is.
 */
export class LegacyCameraUuid1764650000000 implements MigrationInterface {
  name = 'LegacyCameraUuid1764650000000';

  async up(q: QueryRunner): Promise<void> {
    const pg = q.connection.options.type === 'postgres';
    const sql = (text: string) => {
      let i = 0;
      return pg ? text.replace(/\?/g, () => `$${++i}`) : text;
    };
    const run = (text: string, params: unknown[] = []) => q.query(sql(text), params) as Promise<Row[]>;

    // Only legacy records that carry a uuid differing from the id they were stored under.
    const moves = new Map<string, { record: Row; extra: Row; uuid: string }[]>();
    let after = '';
    for (;;) {
      const batch = await run(
        `SELECT id, box_id, media_device_id, device_external_id, identity_external_id, occurred_at, extra FROM recognition_records
         WHERE api_version = 'legacy' AND extra LIKE '%device_id%' AND id > ? ORDER BY id LIMIT 1000`,
        [after],
      );
      if (batch.length === 0) break;
      after = String(batch[batch.length - 1].id);
      for (const record of batch) {
        const extra = parse(record.extra);
        const uuid = cameraUuid(extra);
        if (!extra || !uuid || uuid === record.device_external_id) continue;
        const device = String(record.media_device_id);
        if (!moves.has(device)) moves.set(device, []);
        moves.get(device)!.push({ record, extra, uuid });
      }
    }

    for (const [deviceId, records] of moves) {
      const [device] = await run('SELECT * FROM media_devices WHERE id = ?', [deviceId]);
      if (!device) continue;
      const [{ n: total }] = await run('SELECT COUNT(*) AS n FROM recognition_records WHERE media_device_id = ?', [deviceId]);
      const uuids = new Set(records.map((r) => r.uuid));
      const targets = new Map<string, string>();
      for (const uuid of uuids) {
        const [existing] = await run('SELECT id FROM media_devices WHERE box_id = ? AND device_id = ?', [device.box_id, uuid]);
        if (existing) targets.set(uuid, String(existing.id));
        else if (uuids.size === 1 && Number(total) === records.length) {
          await run('UPDATE media_devices SET device_id = ? WHERE id = ?', [uuid, deviceId]);
          targets.set(uuid, deviceId);
        } else {
          const id = randomUUID();
          await run(
            `INSERT INTO media_devices (id, box_id, device_id, type, ip, name, url, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
            [id, device.box_id, uuid, device.type, device.ip, device.name, device.url, device.first_seen_at, device.last_seen_at],
          );
          targets.set(uuid, id);
        }
      }

      for (const { record, extra, uuid } of records) {
        const target = targets.get(uuid)!;
        const [duplicate] = await run(
          'SELECT id FROM recognition_records WHERE box_id = ? AND device_external_id = ? AND identity_external_id = ? AND occurred_at = ?',
          [record.box_id, uuid, record.identity_external_id, record.occurred_at],
        );
        if (duplicate) continue;
        const { device_id: _uuid, ...info } = extra.media_device_info as Row;
        const patched = { ...extra, media_device_info: { ...info, ep_id: record.device_external_id } };
        await run('UPDATE recognition_records SET media_device_id = ?, device_external_id = ?, extra = ? WHERE id = ?', [
          target,
          uuid,
          JSON.stringify(patched),
          record.id,
        ]);
        await run('UPDATE alerts SET media_device_id = ? WHERE record_id = ?', [target, record.id]);
      }

      for (const target of new Set(targets.values())) {
        if (target === deviceId) continue;
        await run(
          `UPDATE media_devices SET first_seen_at = CASE WHEN first_seen_at < ? THEN first_seen_at ELSE ? END,
             last_seen_at = CASE WHEN last_seen_at > ? THEN last_seen_at ELSE ? END WHERE id = ?`,
          [device.first_seen_at, device.first_seen_at, device.last_seen_at, device.last_seen_at, target],
        );
      }
      const [{ n: left }] = await run('SELECT COUNT(*) AS n FROM recognition_records WHERE media_device_id = ?', [deviceId]);
      if (Number(left) === 0) await run('DELETE FROM media_devices WHERE id = ?', [deviceId]);
    }
  }

  async down(): Promise<void> {
    // The old ids are kept in extra.media_device_info.ep_id; the move is not undone.
  }
}
