import { Logger } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { createHash } from 'node:crypto';
import { RecognitionRecordedEvent } from '../src/events/domain-events';
import { OutboxRelay } from '../src/events/outbox-relay.service';
import { onAwaited } from './helpers/awaited-listener';
import { CALLBACK_PATH, readFixture, startTestApp, TestApp } from './helpers/test-app';
import { describeDb, queryRows } from './helpers/test-database';

type Row = Record<string, unknown>;

const sha256 = (base64: string) => createHash('sha256').update(Buffer.from(base64, 'base64')).digest('hex');
const bool = (v: unknown) => v === true || v === 1;
const asBuffer = (v: unknown) => (v === null ? null : Buffer.from(v as Uint8Array));

// typical/000000..2 carry a registered photo and a face crop; 000004 only a face crop.
const withRegImage = (n: number) => readFixture(`typical/00000${n}.json`);
const faceCropOnly = () => readFixture('typical/000004.json');

let seq = 0;
/** A fresh event (own timestamp) built on a fixture. */
function event(base: Row, fields: Row): Row {
  return { ...base, timestamp: 1_700_000_000_000 + ++seq * 1000, ...fields };
}

describeDb('domain events through the outbox', () => {
  let t: TestApp;

  beforeAll(async () => {
    // Relay only when a test drains, so each test decides when listeners run.
    t = await startTestApp({ env: { OUTBOX_RELAY_ENABLED: 'false' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  const pg = () => t.dataSource.options.type === 'postgres';
  const q = (sql: string, params: unknown[] = []): Promise<Row[]> => queryRows(t.dataSource, sql, params);
  const posted: unknown[] = [];
  const post = async (body: unknown) => {
    posted.push(body);
    const res = await t
      .http()
      .post(CALLBACK_PATH)
      .set('content-type', 'application/json')
      .send(body as object);
    expect(res.status).toBe(200);
  };
  const identity = async (externalId: string): Promise<Row | undefined> =>
    (await q('SELECT * FROM identities WHERE external_id = ?', [externalId]))[0];
  const facesOf = async (externalId: string): Promise<Row[]> =>
    q(
      `SELECT f.* FROM faces f JOIN identities i ON i.id = f.identity_id WHERE i.external_id = ?
       ORDER BY f.captured_at`,
      [externalId],
    );
  const recordOf = async (p: Row): Promise<Row> =>
    (await q('SELECT * FROM recognition_records WHERE identity_external_id = ? AND occurred_at = ?', [p.identity_id, p.timestamp]))[0];
  const count = async (table: string) => Number((await q(`SELECT COUNT(*) AS n FROM ${table}`))[0].n);

  it('1001 with a registered photo: stranger identity, one current face with that photo and the feature', async () => {
    const p = event(withRegImage(0), { identity_id: 'S-1001-reg', post_action: '1001', user_type: 'stranger' });
    await post(p);
    expect(await facesOf('S-1001-reg')).toHaveLength(0); // nothing before the relay ran
    await t.drainOutbox();

    expect((await identity('S-1001-reg'))?.user_type).toBe('stranger');
    const faces = await facesOf('S-1001-reg');
    expect(faces).toHaveLength(1);
    const record = await recordOf(p);
    expect(faces[0]).toMatchObject({ source: 'stranger-registered', source_record_id: record.id });
    expect(faces[0].image_sha256).toBe(sha256(p.reg_image as string));
    expect(Number(faces[0].captured_at)).toBe(p.timestamp);
    expect(bool(faces[0].is_current)).toBe(true);
    const wireFeature = Buffer.from((p.recognize_face_attr as Row).feature_base64_str as string, 'base64');
    expect(asBuffer(faces[0].feature)!.equals(wireFeature)).toBe(true);
  });

  it('1001 without a registered photo uses the face crop, and makes an untyped identity a stranger', async () => {
    const { user_type: _omit, ...base } = faceCropOnly();
    const p = event(base, { identity_id: 'S-1001-crop', post_action: '1001' });
    await post(p);
    expect((await identity('S-1001-crop'))?.user_type).toBeNull();
    await t.drainOutbox();

    expect((await identity('S-1001-crop'))?.user_type).toBe('stranger');
    const faces = await facesOf('S-1001-crop');
    expect(faces).toHaveLength(1);
    expect(faces[0].image_sha256).toBe(sha256(p.recognize_face_image as string));
    expect(bool(faces[0].is_current)).toBe(true);
  });

  it('1001 relayed after a newer record typed the identity keeps the newer user_type', async () => {
    const stranger = event(faceCropOnly(), { identity_id: 'S-1001-later-employee', post_action: '1001', user_type: 'stranger' });
    const employee = event(withRegImage(1), { identity_id: 'S-1001-later-employee', post_action: '0', user_type: 'employee' });
    await post(stranger);
    await post(employee);
    await t.drainOutbox();
    expect((await identity('S-1001-later-employee'))?.user_type).toBe('employee');
    expect(await facesOf('S-1001-later-employee')).toHaveLength(1);
  });

  it('1002 adds the new face as current and keeps the previous ones as history, whatever order they arrive in', async () => {
    const id = 'E-1002';
    const [t1, t2, t3] = [1_710_000_001_000, 1_710_000_002_000, 1_710_000_003_000];
    const first = event(withRegImage(0), { identity_id: id, post_action: '1001', user_type: 'stranger', timestamp: t1 });
    const newest = event(withRegImage(2), { identity_id: id, post_action: '1002', user_type: 'employee', timestamp: t3 });
    const middle = event(withRegImage(1), { identity_id: id, post_action: '1002', user_type: 'employee', timestamp: t2 });

    await post(first);
    await t.drainOutbox();
    // The newer update is relayed before the older one.
    await post(newest);
    await t.drainOutbox();
    await post(middle);
    await t.drainOutbox();

    const faces = await facesOf(id);
    expect(faces.map((f) => Number(f.captured_at))).toEqual([t1, t2, t3]);
    expect(faces.map((f) => f.source)).toEqual(['stranger-registered', 'face-library-updated', 'face-library-updated']);
    expect(faces.map((f) => bool(f.is_current))).toEqual([false, false, true]);
    expect(faces[2].image_sha256).toBe(sha256(newest.reg_image as string));
    expect(faces[1].image_sha256).toBe(sha256(middle.reg_image as string));
    expect(faces.every((f) => Number(f.created_at) > 0)).toBe(true);
    expect((await identity(id))?.user_type).toBe('employee');
  });

  it('a 1002 record with no usable image or feature adds no face and leaves the current one', async () => {
    const before = await facesOf('E-1002');
    // Cut-short images and feature (as in the vendor's documented example): stored with defects, nothing to register.
    const p = event(readFixture('truncated-images.json'), { identity_id: 'E-1002', post_action: '1002', timestamp: 1_710_000_009_000 });
    await post(p);
    await t.drainOutbox();
    expect(await facesOf('E-1002')).toEqual(before);
    expect(
      Number(
        (
          await q(`SELECT attempts FROM outbox_events WHERE aggregate_id = ? AND type = 'identity.face-library-updated'`, [
            (await recordOf(p)).id,
          ])
        )[0].attempts,
      ),
    ).toBe(0);
  });

  it('applies older-after-newer 1002 events relayed in one pass the same way', async () => {
    const id = 'E-1002-one-pass';
    const newer = event(withRegImage(1), { identity_id: id, post_action: '1002', user_type: 'employee', timestamp: 1_720_000_002_000 });
    const older = event(withRegImage(2), { identity_id: id, post_action: '1002', user_type: 'employee', timestamp: 1_720_000_001_000 });
    await post([newer, older]);
    await t.drainOutbox();
    const faces = await facesOf(id);
    expect(faces.map((f) => [Number(f.captured_at), bool(f.is_current)])).toEqual([
      [older.timestamp, false],
      [newer.timestamp, true],
    ]);
  });

  it('raises one alert per blacklist or vip sighting and none for others', async () => {
    const black = event(withRegImage(0), { identity_id: 'B-1', identity_name: 'Watch', user_type: 'blacklist', post_action: '0' });
    const vip = event(withRegImage(1), { identity_id: 'V-1', user_type: 'vip', post_action: '0' });
    const staff = event(withRegImage(2), { identity_id: 'N-1', user_type: 'employee', post_action: '0' });
    await post([black, vip, staff]);
    await t.drainOutbox();

    // Raised by the default alert rules (created by migration AlertRules) from recognition.recorded.
    const alerts = await q(
      `SELECT a.*, o.type AS event_type FROM alerts a JOIN outbox_events o ON o.id = a.event_id
       WHERE a.identity_external_id IN ('B-1', 'V-1', 'N-1') ORDER BY a.rule_name`,
    );
    expect(alerts.map((a) => [a.rule_name, a.severity, a.identity_external_id, a.event_type])).toEqual([
      ['Blacklist seen', 'critical', 'B-1', 'recognition.recorded'],
      ['VIP seen', 'info', 'V-1', 'recognition.recorded'],
    ]);
    expect(alerts[0]).toMatchObject({ identity_name: 'Watch', record_id: (await recordOf(black)).id });
    expect(Number(alerts[0].occurred_at)).toBe(black.timestamp);
  });

  it('replaying relayed events, or re-posting their records, adds no face and no alert', async () => {
    const before = { faces: await count('faces'), alerts: await count('alerts'), outbox: await count('outbox_events') };
    const currentBefore = await q(`SELECT id FROM faces WHERE is_current = ${pg() ? 'TRUE' : '1'} ORDER BY id`);
    expect(before.faces).toBeGreaterThan(0);
    expect(before.alerts).toBeGreaterThan(0);

    // Redelivery of every outbox row, as after a crash between the listeners and marking the row processed.
    await q('UPDATE outbox_events SET processed_at = NULL');
    await t.drainOutbox();
    expect(await count('faces')).toBe(before.faces);
    expect(await count('alerts')).toBe(before.alerts);
    expect(await q(`SELECT id FROM faces WHERE is_current = ${pg() ? 'TRUE' : '1'} ORDER BY id`)).toEqual(currentBefore);
    expect(await count('outbox_events')).toBe(before.outbox);
    expect(Number((await q('SELECT COUNT(*) AS n FROM outbox_events WHERE processed_at IS NULL'))[0].n)).toBe(0);

    // The box resending the same events: stored once, so no new outbox rows and no new effects.
    for (const body of [...posted]) await post(body);
    await t.drainOutbox();
    expect(await count('faces')).toBe(before.faces);
    expect(await count('alerts')).toBe(before.alerts);
    expect(await count('outbox_events')).toBe(before.outbox);
  });

  it('retries a failing listener with backoff, keeps its failure visible, and delivers once it succeeds', async () => {
    const emitter = t.app.get(EventEmitter2);
    const warn = jest.spyOn(Logger.prototype, 'warn');
    let calls = 0;
    const delivered: number[] = [];
    const flaky = async (e: RecognitionRecordedEvent) => {
      if (e.record.identityExternalId !== 'F-flaky') return;
      calls++;
      if (calls <= 2) throw new Error(`downstream unavailable (${calls})`);
      delivered.push(e.meta!.eventId);
    };
    const unsubscribe = onAwaited(emitter, RecognitionRecordedEvent.type, flaky);
    try {
      const p = event(withRegImage(0), { identity_id: 'F-flaky', user_type: 'employee', post_action: '0' });
      await post(p);
      const rowOf = async () =>
        (await q(`SELECT * FROM outbox_events WHERE type = 'recognition.recorded' AND aggregate_id = ?`, [(await recordOf(p)).id]))[0];

      await t.drainOutbox();
      let row = await rowOf();
      expect(calls).toBe(1);
      expect(row).toMatchObject({ last_error: 'downstream unavailable (1)', claimed_by: null, processed_at: null });
      expect(Number(row.attempts)).toBe(1);
      expect(Number(row.available_at)).toBeGreaterThan(Number(row.created_at)); // backed off
      expect(warn.mock.calls.some(([m]) => String(m).includes(`outbox ${Number(row.id)}) failed, attempt 1`))).toBe(true);

      // Not due yet: a pass leaves it alone.
      await t.drainOutbox();
      expect(calls).toBe(1);

      // Let the backoff elapse (without waiting for it).
      const due = async () => q('UPDATE outbox_events SET available_at = 0 WHERE id = ?', [Number(row.id)]);
      await due();
      await t.drainOutbox();
      row = await rowOf();
      expect(calls).toBe(2);
      expect(Number(row.attempts)).toBe(2);
      expect(row.last_error).toBe('downstream unavailable (2)');
      expect(row.processed_at).toBeNull();

      await due();
      await t.drainOutbox();
      row = await rowOf();
      expect(calls).toBe(3);
      expect(delivered).toEqual([Number(row.id)]);
      expect(row.processed_at).not.toBeNull();
      expect(Number(row.attempts)).toBe(2); // how many times it failed before succeeding
      expect(row.last_error).toBe('downstream unavailable (2)');

      await t.drainOutbox();
      expect(calls).toBe(3);
    } finally {
      unsubscribe();
      warn.mockRestore();
    }
  });

  it('hands a batch listener the batch at once, and when that fails each event alone: only the failing one is retried', async () => {
    const calls: string[][] = [];
    const unsubscribe = t.app.get(OutboxRelay).onEvents(RecognitionRecordedEvent.type, (events) => {
      const ids = events.map((e) => e.record.identityExternalId).filter((id) => id.startsWith('B-'));
      if (ids.length > 0) calls.push(ids);
      return ids.includes('B-bad') ? Promise.reject(new Error('bad record')) : Promise.resolve();
    });
    try {
      const bodies = ['B-good-1', 'B-bad', 'B-good-2'].map((id) =>
        event(withRegImage(0), { identity_id: id, user_type: 'employee', post_action: '0' }),
      );
      for (const b of bodies) await post(b);
      await t.drainOutbox();
      // Once together, then one at a time.
      expect(calls).toEqual([['B-good-1', 'B-bad', 'B-good-2'], ['B-good-1'], ['B-bad'], ['B-good-2']]);
      const rows = await Promise.all(
        bodies.map(
          async (b) =>
            (
              await q('SELECT * FROM outbox_events WHERE type = ? AND aggregate_id = ?', ['recognition.recorded', (await recordOf(b)).id])
            )[0],
        ),
      );
      expect(rows.map((r) => r.processed_at !== null)).toEqual([true, false, true]);
      expect(rows[1]).toMatchObject({ last_error: 'bad record' });
      expect(Number(rows[1].attempts)).toBe(1);
      // The other listeners heard the good ones (persons kept their sightings).
      for (const b of [bodies[0], bodies[2]]) {
        const sightings = await q('SELECT * FROM identity_sightings WHERE identity_id = ?', [
          (await identity(b.identity_id as string))!.id,
        ]);
        expect(sightings).toHaveLength(1);
      }
    } finally {
      unsubscribe();
    }
    // Retried alone once due, without the failing listener: processed.
    await q(`UPDATE outbox_events SET available_at = 0 WHERE processed_at IS NULL`);
    await t.drainOutbox();
    expect(Number((await q('SELECT COUNT(*) AS n FROM outbox_events WHERE processed_at IS NULL'))[0].n)).toBe(0);
  });
});
