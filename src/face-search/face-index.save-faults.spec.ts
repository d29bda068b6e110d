import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { seededUniform } from '../../test/helpers/seeded-uniform';
import { FaceIndex, FaceIndexParams } from './face-index';
import { FACE_DIMENSIONS, normalised } from './face-vector';

// face-index.ts reads node:fs through its own import: a directory fsync can only be made to fail from a module mock.
const failing = { dirSync: false };
jest.mock('node:fs', () => {
  const real = jest.requireActual<typeof import('node:fs')>('node:fs');
  return {
    ...real,
    fsyncSync: (fd: number) => {
      if (failing.dirSync && real.fstatSync(fd).isDirectory()) throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
      real.fsyncSync(fd);
    },
  };
});

const params: FaceIndexParams = { quantization: 'i8', connectivity: 16, expansionAdd: 64, expansionSearch: 64 };
const rnd = seededUniform(5);
const facts = { occurredAt: 1, boxId: 'b', mediaDeviceId: 'm', userType: null, identityId: 'i' };

describe('FaceIndex.save when the directory fsync after the rename fails', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'face-index-save-faults-'))));
  afterEach(() => {
    failing.dirSync = false;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('throws, and keeps the files the renamed table names, so the snapshot still loads', () => {
    const index = new FaceIndex(params);
    index.add(
      Array.from({ length: 20 }, (_, i) => ({
        recordId: `r${i}`,
        vector: normalised(Array.from({ length: FACE_DIMENSIONS }, rnd))!,
        facts,
      })),
    );
    index.save(dir, 1);
    index.add([{ recordId: 'late', vector: normalised(Array.from({ length: FACE_DIMENSIONS }, rnd))!, facts }]);
    failing.dirSync = true;
    expect(() => index.save(dir, 2)).toThrow('EIO');
    failing.dirSync = false;
    const loaded = FaceIndex.load(dir, params);
    expect(loaded).not.toBeNull(); // the table in place names files that exist and match their sums
    expect(loaded!.cursor).toBe(2);
    expect(loaded!.index.size).toBe(21);
  });
});
