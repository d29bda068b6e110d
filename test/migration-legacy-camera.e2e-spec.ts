import { push } from './helpers/api-client';
import { readFixture, startTestApp, TestApp } from './helpers/test-app';
import { describeDb, queryRows } from './helpers/test-database';

type Row = Record<string, unknown>;

const UUID_UPGRADED = '5f1c0a9e2b7d4c3a8e6f1b2c3d4e5f60';
const UUID_RENAMED = '0a1b2c3d4e5f60718293a4b5c6d7e8f9';

/**
 * Migration 1764650000000: records stored from older firmware under ep_info.ep_id (the hub's former rule) move to
 * the camera's uuid, ep_info.device_id. Old-shape rows are made by pushing v2.0 records carrying the uuid in
 * media_device_info.device_id (kept in extra, as the legacy translation kept it) and marking them legacy.
 */
describeDb('migration: legacy records move to the camera uuid', () => {
  let t: TestApp;
  const q = (sql: string, params: unknown[] = []) => queryRows(t.dataSource, sql, params);

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  const record = (box: string, device: string, uuid: string | undefined, timestamp: number): Row => {
    const base = readFixture('small/000003.json');
    const info = { ...(base.media_device_info as Row), media_device_id: device, ...(uuid && { device_id: uuid }) };
    return { ...base, mq_license_key: box, media_device_info: info, identity_id: 'p-9', timestamp };
  };
  const devicesOf = async (box: string) =>
    q('SELECT m.id, m.device_id FROM media_devices m JOIN boxes b ON b.id = m.box_id WHERE b.license_key = ? ORDER BY m.device_id', [box]);
  const recordsOf = async (box: string) =>
    q(
      `SELECT r.occurred_at, r.device_external_id, r.media_device_id, r.extra FROM recognition_records r JOIN boxes b ON b.id = r.box_id
       WHERE b.license_key = ? ORDER BY r.occurred_at`,
      [box],
    );

  it('merges an upgraded camera into one device, renames a legacy-only one, leaves records without a uuid', async () => {
    // Box UP: two legacy records of camera "1" (uuid U), then the upgraded box's v2.0 record of U.
    await push(t, [record('BOX-UP', '1', UUID_UPGRADED, 1_720_000_000_001), record('BOX-UP', '1', UUID_UPGRADED, 1_720_000_000_002)]);
    // Box OLD: camera "2" (uuid R), never upgraded; camera "3" sends no uuid.
    await push(t, [record('BOX-OLD', '2', UUID_RENAMED, 1_720_000_000_011), record('BOX-OLD', '3', undefined, 1_720_000_000_012)]);
    await q(`UPDATE recognition_records SET api_version = 'legacy'`);
    // The same event as the first legacy one, already stored under the uuid: must not be moved onto it.
    await push(t, [
      { ...record('BOX-UP', UUID_UPGRADED, undefined, 1_720_000_000_003), api_version: '2.0' },
      { ...record('BOX-UP', UUID_UPGRADED, undefined, 1_720_000_000_002), api_version: '2.0' },
    ]);
    const renamedBefore = (await devicesOf('BOX-OLD')).find((d) => d.device_id === '2')!;

    // Run the migration again over these rows (its down leaves data alone), undoing the later ones first.
    const applied = async () => (await q('SELECT name FROM migrations')).map((m) => m.name as string);
    while ((await applied()).includes('LegacyCameraUuid1764650000000')) await t.dataSource.undoLastMigration();
    await t.dataSource.runMigrations();

    const up = await devicesOf('BOX-UP');
    expect(up.map((d) => d.device_id)).toEqual(['1', UUID_UPGRADED]); // "1" keeps only the duplicate event
    const uuidDevice = up.find((d) => d.device_id === UUID_UPGRADED)!.id;
    const upRecords = await recordsOf('BOX-UP');
    expect(upRecords.map((r) => [Number(r.occurred_at), r.device_external_id, r.media_device_id === uuidDevice])).toEqual([
      [1_720_000_000_001, UUID_UPGRADED, true],
      [1_720_000_000_002, '1', false],
      [1_720_000_000_002, UUID_UPGRADED, true],
      [1_720_000_000_003, UUID_UPGRADED, true],
    ]);
    const moved = JSON.parse(String(upRecords[0].extra)) as { media_device_info: Row };
    expect(moved.media_device_info).toEqual({ ep_id: '1' });

    const old = await devicesOf('BOX-OLD');
    expect(old.map((d) => d.device_id)).toEqual([UUID_RENAMED, '3']);
    expect(old[0].id).toBe(renamedBefore.id); // renamed in place: API ids stay valid
    expect((await recordsOf('BOX-OLD')).map((r) => r.device_external_id)).toEqual([UUID_RENAMED, '3']);

    // The box retrying a moved event after the upgrade of the hub: recognised as already stored.
    const legacyRetry = {
      dev_sno: 'BOX-OLD',
      timestamp: 1_720_000_000_011,
      identity_id: 'p-9',
      ep_info: { ep_id: '2', device_id: UUID_RENAMED, ep_type: 'rtsp' },
    };
    await push(t, legacyRetry);
    expect(await recordsOf('BOX-OLD')).toHaveLength(2);
  });
});
