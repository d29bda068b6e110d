import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { canMountSmallFilesystems, mountSmallFilesystem, SmallFilesystem } from './helpers/small-filesystem';
import { ServerProcess, spawnServer } from './helpers/spawn-server';
import { CALLBACK_PATH, readFixture } from './helpers/test-app';
import { createTestDatabase, describeDb, openDataSource, queryRows, TestDatabase, testDbKind } from './helpers/test-database';

type Row = Record<string, unknown>;

const BOXES = 4;
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** The same JPEG with bytes in its middle changed: a distinct image (content-addressed storage dedupes equal ones). */
function uniqueJpeg(base64: string, tag: string): string {
  const bytes = Buffer.from(base64, 'base64');
  bytes.write(createHash('sha256').update(tag).digest('hex'), 200, 'latin1');
  return bytes.toString('base64');
}

/**
 * A box as the product promise describes it: it sends its events in order and resends the same event until it is
 * answered 200, which it takes as "stored durably".
 */
class Box {
  next = 0;
  readonly answered: string[] = [];
  readonly refusals: { status: number; retryAfter: string | null; body: Row }[] = [];

  constructor(
    private readonly id: number,
    private readonly event: (box: number, n: number) => Row,
  ) {}

  async push(url: string): Promise<void> {
    const record = this.event(this.id, this.next);
    const res = await fetch(url + CALLBACK_PATH, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(record),
    });
    const body = (await res.json().catch(() => ({}))) as Row;
    if (res.status === 200) {
      this.answered.push(record.identity_id as string);
      this.next++;
    } else {
      this.refusals.push({ status: res.status, retryAfter: res.headers.get('retry-after'), body });
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

(canMountSmallFilesystems ? describeDb : describe.skip)('a full disk never costs a record answered 200', () => {
  let db: TestDatabase;
  let small: SmallFilesystem | undefined;
  let ds: DataSource | undefined;
  let server: ServerProcess | undefined;

  beforeEach(async () => {
    db = await createTestDatabase();
    small = mountSmallFilesystem(6 << 20);
  });
  afterEach(async () => {
    server?.kill('SIGKILL');
    await server?.exited;
    server = undefined;
    await ds?.destroy();
    ds = undefined;
    small?.unmount();
    small = undefined;
    await db?.drop();
  });

  const start = async (env: Record<string, string>) => {
    server = await spawnServer({ ...db.env, ...env });
    return server;
  };
  const stop = async () => {
    server!.kill('SIGTERM');
    expect(await server!.exited).toBe(0);
    server = undefined;
  };
  const openDatabase = async (sqlitePath?: string) => {
    ds = await openDataSource(db, 2, sqlitePath);
    return ds;
  };

  /**
   * Boxes push through three periods: space to spare, a full filesystem (until several pushes were refused) and
   * space back. Returns the boxes for the checks; asserts what holds for every run.
   */
  async function pushThroughFullDisk(url: string, event: (box: number, n: number) => Row): Promise<Box[]> {
    const boxes = Array.from({ length: BOXES }, (_, i) => new Box(i, event));
    const pushAll = async (until: (box: Box) => boolean, what: string) => {
      await Promise.all(
        boxes.map(async (box) => {
          for (let i = 0; !until(box); i++) {
            if (i > 400) throw new Error(`box never got to: ${what}`);
            await box.push(url);
          }
        }),
      );
    };
    await pushAll((b) => b.answered.length >= 2, 'two records stored before the disk filled');
    expect(boxes.flatMap((b) => b.refusals)).toEqual([]);

    small!.fill();
    const refused = () => boxes.reduce((n, b) => n + b.refusals.length, 0);
    await pushAll(() => refused() > 0, 'a refusal while the disk is full');
    // The boxes keep pushing while the disk stays full.
    const pushes = boxes.map((b) => b.answered.length + b.refusals.length);
    await pushAll((b) => b.answered.length + b.refusals.length >= pushes[boxes.indexOf(b)] + 10, 'ten more pushes');

    small!.free();
    // No restart: each box gets its pending event and three more stored.
    const storedBefore = boxes.map((b) => b.answered.length);
    await pushAll((b) => b.answered.length >= storedBefore[boxes.indexOf(b)] + 4, 'records stored once space returned');
    return boxes;
  }

  /** What the boxes got instead of a 200: only "storage full, retry later". */
  function expectOnlyStorageFullRefusals(boxes: Box[]): void {
    expect(boxes.flatMap((b) => b.refusals).length).toBeGreaterThan(0);
    for (const r of boxes.flatMap((b) => b.refusals)) {
      expect(r).toEqual({
        status: 503,
        retryAfter: expect.stringMatching(/^\d+$/),
        body: expect.objectContaining({ reason: 'storage_full' }),
      });
    }
  }

  /** After a clean shutdown and a restart, every event answered 200 is stored (and nothing else of these boxes). */
  async function expectEveryAnsweredRecordStored(boxes: Box[], sqlitePath?: string): Promise<Row[]> {
    const answered = boxes.flatMap((b) => b.answered).sort();
    const rows = await queryRows(
      await openDatabase(sqlitePath),
      `SELECT identity_external_id, reg_image_sha256, spot_image_sha256, face_image_sha256 FROM recognition_records
       WHERE identity_external_id LIKE ? ORDER BY identity_external_id`,
      ['DF-%'],
    );
    expect(rows.map((r) => r.identity_external_id).sort()).toEqual(answered);
    return rows;
  }

  it('image store full: pushes are refused with 503, the hub recovers by itself, and no answered record or image is lost', async () => {
    const imageDir = path.join(small!.dir, 'images');
    const typical = readFixture('typical/000000.json');
    const event = (box: number, n: number): Row => {
      const tag = `${box}-${n}`;
      return {
        ...typical,
        mq_license_key: `DISKFULL${box}`,
        identity_id: `DF-${box}-${String(n).padStart(4, '0')}`,
        timestamp: 1_750_000_000_000 + n * 1000,
        reg_image: uniqueJpeg(typical.reg_image as string, `reg-${tag}`),
        spot_image: uniqueJpeg(typical.spot_image as string, `spot-${tag}`),
        recognize_face_image: uniqueJpeg(typical.recognize_face_image as string, `face-${tag}`),
      };
    };
    const env = { IMAGE_DIR: imageDir };
    const boxes = await pushThroughFullDisk((await start(env)).url, event);
    await stop();
    await start(env);

    const rows = await expectEveryAnsweredRecordStored(boxes);
    for (const r of rows) {
      for (const key of [r.reg_image_sha256, r.spot_image_sha256, r.face_image_sha256] as string[]) {
        const file = path.join(imageDir, key.slice(0, 2), key.slice(2, 4), key);
        expect(fs.existsSync(file) && sha256(fs.readFileSync(file))).toBe(key);
      }
    }
    // Writes refused for lack of space left no partial files behind to keep holding the space.
    expect(fs.readdirSync(path.join(imageDir, '.tmp'))).toEqual([]);
    expectOnlyStorageFullRefusals(boxes);
  });

  // PostgreSQL's own disk cannot be filled from here; its storage-full code (53100) is mapped like SQLite's.
  if (testDbKind() === 'sqlite') {
    it('SQLite database full: pushes are refused with 503, the hub recovers by itself, and no answered record is lost', async () => {
      const sqlitePath = path.join(small!.dir, 'hub.sqlite');
      const plain = readFixture('small/000000.json');
      const event = (box: number, n: number): Row => ({
        ...plain,
        mq_license_key: `DISKFULL${box}`,
        identity_id: `DF-${box}-${String(n).padStart(4, '0')}`,
        timestamp: 1_760_000_000_000 + n * 1000,
      });
      const env = { SQLITE_PATH: sqlitePath };
      const boxes = await pushThroughFullDisk((await start(env)).url, event);
      await stop();
      await start(env);
      await expectEveryAnsweredRecordStored(boxes, sqlitePath);
      expectOnlyStorageFullRefusals(boxes);
    });
  }
});
