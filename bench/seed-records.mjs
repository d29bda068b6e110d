#!/usr/bin/env node
// Bulk-loads synthetic recognition records straight into a migrated hub database, for query benchmarks.
// The rows are generated inside the database (one INSERT … SELECT per batch over a number series), so a
// million rows take tens of seconds, not the hours the HTTP path would need.
//
//   node bench/seed-records.mjs --sqlite data/recognition-hub.sqlite [--count 1000000]
//   DATABASE_URL=postgres://… node bench/seed-records.mjs [--count 1000000]
//
// Shape: --boxes boxes with --devices media devices between them, --identities people, records spread
// evenly over the last --days days (strictly increasing occurred_at, so the event key never collides),
// each on a pseudo-random device and identity. Every record has a 2 KiB feature and image references, as
// stored records do. The same options give the same distribution on both databases.
import crypto from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { parseFlags } from './lib/common.mjs';

export const SEED_DEFAULTS = { count: 1_000_000, boxes: 20, devices: 100, identities: 5000, days: 90, batch: 100_000 };

const uuid = () => crypto.randomUUID();

/** Boxes, media devices and identities the records point at; ids are generated here. */
function world(o, now) {
  const boxes = Array.from({ length: o.boxes }, (_, i) => ({ id: uuid(), key: `BENCHBOX${String(i).padStart(4, '0')}` }));
  const devices = Array.from({ length: o.devices }, (_, k) => ({
    k,
    id: uuid(),
    box: boxes[k % boxes.length],
    deviceId: crypto.createHash('md5').update(`device-${k}`).digest('hex'),
  }));
  const types = ['employee', 'employee', 'employee', 'visitor', 'stranger', 'vip', 'blacklist'];
  const identities = Array.from({ length: o.identities }, (_, k) => ({
    k,
    id: uuid(),
    externalId: `B${String(k).padStart(7, '0')}`,
    name: `Person ${k}`,
    userType: types[k % types.length],
  }));
  const span = o.days * 86_400_000;
  const step = Math.floor(span / o.count);
  return { boxes, devices, identities, t0: now - span, step, now };
}

const RECORD_COLUMNS = `id, box_id, media_device_id, device_external_id, identity_id, identity_external_id, identity_name,
  user_type, occurred_at, entered_at, left_at, score_raw, score, post_action, api_version, attributes, landmarks, face_box,
  feature, reg_image_sha256, spot_image_sha256, ir_image_sha256, face_image_sha256, defects, has_defects, extra,
  source_address, received_at`;
const ATTRS = `'{"mask":null,"gender":null,"hat":null,"age":null,"glasses":null,"expression":null}'`;
const POINTS = `'[101.5,120.25,160.5,121.75,131,150.5,108.25,180,155.5,181.25]'`;

/** Seeds an SQLite hub database (migrated already); returns the world it created. */
export function seedSqlite(file, options = {}, log = console.error) {
  const o = { ...SEED_DEFAULTS, ...options };
  const w = world(o, options.now ?? Date.now());
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF'); // bulk load: durability of the seed itself does not matter
  db.pragma('cache_size = -262144');
  db.exec('CREATE TEMP TABLE seed_devices (k INTEGER PRIMARY KEY, id TEXT, box_id TEXT, device_id TEXT)');
  db.exec('CREATE TEMP TABLE seed_identities (k INTEGER PRIMARY KEY, id TEXT, external_id TEXT, name TEXT, user_type TEXT)');
  db.transaction(() => {
    const box = db.prepare('INSERT INTO boxes (id, license_key, name, api_version, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?)');
    for (const b of w.boxes) box.run(b.id, b.key, b.key, '2.0', w.t0, w.now);
    const dev = db.prepare(
      'INSERT INTO media_devices (id, box_id, device_id, type, name, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    const sd = db.prepare('INSERT INTO seed_devices VALUES (?, ?, ?, ?)');
    for (const d of w.devices) {
      dev.run(d.id, d.box.id, d.deviceId, 'rtsp', `Camera ${d.k}`, w.t0, w.now);
      sd.run(d.k, d.id, d.box.id, d.deviceId);
    }
    const idn = db.prepare(
      'INSERT INTO identities (id, external_id, name, user_type, first_seen_at, last_seen_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    const si = db.prepare('INSERT INTO seed_identities VALUES (?, ?, ?, ?, ?)');
    for (const i of w.identities) {
      idn.run(i.id, i.externalId, i.name, i.userType, w.t0, w.now, w.now);
      si.run(i.k, i.id, i.externalId, i.name, i.userType);
    }
  })();
  const insert = db.prepare(`
    INSERT INTO recognition_records (${RECORD_COLUMNS})
    WITH RECURSIVE seq(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < ?),
      g AS (SELECT i, (i * 2654435761) % 4294967296 AS h FROM seq)
    SELECT printf('%08x-0000-4000-8000-%012x', g.h, g.i), d.box_id, d.id, d.device_id, p.id, p.external_id, p.name,
      p.user_type, @t0 + g.i * @step + g.h % @step AS t, NULL, NULL, 80 + (g.h % 200) / 10.0, 0.8 + (g.h % 200) / 1000.0,
      '0', '2.0', ${ATTRS}, ${POINTS}, '[100,110,180,190]', randomblob(2048), lower(hex(randomblob(32))),
      lower(hex(randomblob(32))), NULL, lower(hex(randomblob(32))), '[]', 0, NULL, '10.0.0.' || (g.h % 250),
      @t0 + g.i * @step + g.h % @step + 300
    FROM g JOIN seed_devices d ON d.k = g.h % @ndev JOIN seed_identities p ON p.k = (g.h / @ndev) % @nid`);
  const t = Date.now();
  for (let from = 0; from < o.count; from += o.batch) {
    const to = Math.min(o.count, from + o.batch);
    db.transaction(() => insert.run(from, to, { t0: w.t0, step: w.step, ndev: o.devices, nid: o.identities }))();
    log(`  ${to.toLocaleString('en')} records (${((Date.now() - t) / 1000).toFixed(0)} s)`);
  }
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return w;
}

/** Seeds a PostgreSQL hub database (migrated already); returns the world it created. */
export async function seedPostgres(url, options = {}, log = console.error) {
  const o = { ...SEED_DEFAULTS, ...options };
  const w = world(o, options.now ?? Date.now());
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('BEGIN');
    for (const b of w.boxes) {
      await c.query('INSERT INTO boxes (id, license_key, name, api_version, first_seen_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $6)', [
        b.id,
        b.key,
        b.key,
        '2.0',
        w.t0,
        w.now,
      ]);
    }
    await c.query(
      `INSERT INTO media_devices (id, box_id, device_id, type, name, first_seen_at, last_seen_at)
       SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::varchar[]) AS u(id, box_id, device_id)
         CROSS JOIN LATERAL (SELECT 'rtsp' AS type, 'Camera ' || u.device_id AS name, $4::bigint AS f, $5::bigint AS l) x`,
      [w.devices.map((d) => d.id), w.devices.map((d) => d.box.id), w.devices.map((d) => d.deviceId), w.t0, w.now],
    );
    await c.query(
      `INSERT INTO identities (id, external_id, name, user_type, first_seen_at, last_seen_at, updated_at)
       SELECT u.*, $5::bigint, $6::bigint, $6::bigint FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[]) AS u`,
      [
        w.identities.map((i) => i.id),
        w.identities.map((i) => i.externalId),
        w.identities.map((i) => i.name),
        w.identities.map((i) => i.userType),
        w.t0,
        w.now,
      ],
    );
    await c.query(
      'CREATE TEMP TABLE seed_devices (k int PRIMARY KEY, id varchar, box_id varchar, device_id varchar) ON COMMIT PRESERVE ROWS',
    );
    await c.query('INSERT INTO seed_devices SELECT * FROM unnest($1::int[], $2::varchar[], $3::varchar[], $4::varchar[])', [
      w.devices.map((d) => d.k),
      w.devices.map((d) => d.id),
      w.devices.map((d) => d.box.id),
      w.devices.map((d) => d.deviceId),
    ]);
    await c.query(
      'CREATE TEMP TABLE seed_identities (k int PRIMARY KEY, id varchar, external_id varchar, name varchar, user_type varchar)',
    );
    await c.query(
      'INSERT INTO seed_identities SELECT * FROM unnest($1::int[], $2::varchar[], $3::varchar[], $4::varchar[], $5::varchar[])',
      [
        w.identities.map((i) => i.k),
        w.identities.map((i) => i.id),
        w.identities.map((i) => i.externalId),
        w.identities.map((i) => i.name),
        w.identities.map((i) => i.userType),
      ],
    );
    await c.query('COMMIT');
    await c.query('SET synchronous_commit = off');
    const t = Date.now();
    for (let from = 0; from < o.count; from += o.batch) {
      const to = Math.min(o.count, from + o.batch);
      await c.query(
        `INSERT INTO recognition_records (${RECORD_COLUMNS})
         SELECT lpad(to_hex(g.h), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(g.i), 12, '0'), d.box_id, d.id, d.device_id, p.id,
           p.external_id, p.name, p.user_type, $3 + g.i * $4 + g.h % $4, NULL, NULL, 80 + (g.h % 200) / 10.0, 0.8 + (g.h % 200) / 1000.0,
           '0', '2.0', ${ATTRS}, ${POINTS}, '[100,110,180,190]', decode(repeat(md5(g.i::text), 64), 'hex'),
           md5(g.i::text) || md5((g.i + 1)::text), md5((g.i + 2)::text) || md5((g.i + 3)::text), NULL,
           md5((g.i + 4)::text) || md5((g.i + 5)::text), '[]', false, NULL, '10.0.0.' || (g.h % 250), $3 + g.i * $4 + g.h % $4 + 300
         FROM (SELECT i, (i * 2654435761) % 4294967296 AS h FROM generate_series($1::bigint, $2::bigint - 1) AS i) g
         JOIN seed_devices d ON d.k = g.h % $5 JOIN seed_identities p ON p.k = (g.h / $5) % $6`,
        [from, to, w.t0, w.step, o.devices, o.identities],
      );
      log(`  ${to.toLocaleString('en')} records (${((Date.now() - t) / 1000).toFixed(0)} s)`);
    }
    // Planner statistics, as autovacuum would gather them shortly after a load like this.
    await c.query('ANALYZE');
  } finally {
    await c.end();
  }
  return w;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const opts = parseFlags(process.argv.slice(2), { sqlite: '', ...SEED_DEFAULTS });
  const t = Date.now();
  if (opts.sqlite) seedSqlite(path.resolve(opts.sqlite), opts);
  else if (process.env.DATABASE_URL) await seedPostgres(process.env.DATABASE_URL, opts);
  else throw new Error('give --sqlite <file> or set DATABASE_URL (the database must be migrated: start the hub on it once)');
  console.error(`seeded ${opts.count.toLocaleString('en')} records in ${((Date.now() - t) / 1000).toFixed(0)} s`);
}
