import fc from 'fast-check';
import { base64Variant } from '../../test/helpers/base64-variants';
import { BOX_LIFTED_KEYS } from '../box-callbacks/box-callbacks.module';
import { decodeImage } from '../images/images.module';
import { LIFT_MIN_BYTES, parseJsonBody } from './json-body';
import { LiftedText } from './lifted-text';

/** What body-parser did: the whole body as one UTF-8 string (iconv drops a byte order mark), then JSON.parse. */
function reference(buf: Buffer): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(buf.toString('utf8').replace(/^\uFEFF/, '')) };
  } catch {
    return { ok: false };
  }
}

function ours(buf: Buffer, liftKeys?: ReadonlySet<string>): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: parseJsonBody(buf, liftKeys) };
  } catch {
    return { ok: false };
  }
}

/** The parsed value with each LiftedText replaced by the string it stands for. */
function materialised(v: unknown): unknown {
  if (v instanceof LiftedText) return v.text();
  if (Array.isArray(v)) return v.map(materialised);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, materialised(x)]));
}

/** Paths of every LiftedText in a parsed value. */
function liftedPaths(v: unknown, path = ''): string[] {
  if (v instanceof LiftedText) return [path];
  if (v === null || typeof v !== 'object') return [];
  return Object.entries(v).flatMap(([k, x]) => liftedPaths(x, Array.isArray(v) ? `${path}[${k}]` : `${path}.${k}`));
}

/** What the parser may lift: long, printable ASCII, nothing JSON escapes. */
const liftable = (v: unknown): v is string =>
  typeof v === 'string' && v.length >= LIFT_MIN_BYTES && /^[\x20-\x7e]*$/.test(v) && !/["\\]/.test(v);

const base64Run = fc.string({
  unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/='),
  minLength: LIFT_MIN_BYTES - 2,
  maxLength: LIFT_MIN_BYTES * 3,
});
/** Long strings of the kinds that must be lifted, and of the kinds that must not (escapes, non-ASCII, controls). */
const longString = fc.oneof(
  base64Run,
  fc
    .tuple(base64Run, fc.constantFrom('"', '\\', '\n', '\u0000', '\u007f', '李', '\u{1F600}', '\\u0041'), base64Run)
    .map(([a, c, b]) => a + c + b),
);
const record = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.jsonValue({ maxDepth: 1 }),
    longString,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.string(), longString), tie('value'), { maxKeys: 4 }),
  ),
})).value;

describe('parseJsonBody', () => {
  it('gives exactly what JSON.parse of the whole body gives, for documents with long strings of every kind', () => {
    fc.assert(
      fc.property(record, fc.constantFrom('', ' ', '\n\t'), (value, ws) => {
        const text = JSON.stringify(value, null, ws || undefined);
        if (text === undefined) return;
        expect(ours(Buffer.from(text))).toEqual(reference(Buffer.from(text)));
      }),
      { numRuns: 300 },
    );
  });

  it('fails exactly where JSON.parse fails, for corrupted bodies', () => {
    fc.assert(
      fc.property(
        record,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }),
        (value, edits) => {
          const buf = Buffer.from(JSON.stringify(value) ?? 'null');
          for (const [at, byte] of edits) buf[at % buf.length] = byte;
          expect(ours(buf)).toEqual(reference(buf));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('fails exactly where JSON.parse fails, and otherwise gives the same strings, with box image keys lifted', () => {
    const boxRecord = fc.dictionary(fc.constantFrom(...BOX_LIFTED_KEYS, 'identity_name', 'x'), record, { maxKeys: 4 });
    fc.assert(
      fc.property(
        fc.oneof(boxRecord, fc.array(boxRecord, { maxLength: 3 })),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
        (value, edits) => {
          const buf = Buffer.from(JSON.stringify(value));
          for (const [at, byte] of edits) buf[at % buf.length] = byte;
          const [got, want] = [ours(buf, BOX_LIFTED_KEYS), reference(buf)];
          expect(got.ok && { ok: true, value: materialised(got.value) }).toEqual(want.ok && want);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('on the box routes, leaves long image values of records as bytes that decode exactly as the strings JSON.parse gives', () => {
    const image = fc.oneof(
      { weight: 4, arbitrary: base64Variant },
      { weight: 1, arbitrary: longString },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) },
    );
    const keys = [...BOX_LIFTED_KEYS];
    const boxRecord = fc
      .tuple(
        fc.subarray(keys, { maxLength: 3 }),
        fc.array(image, { minLength: 3, maxLength: 3 }),
        fc.option(fc.constantFrom(...keys)),
        image,
      )
      .map(([present, values, nestedKey, nested]) => ({
        identity_name: '李娜',
        ...Object.fromEntries(present.map((k, i) => [k, values[i]])),
        // The same keys below the top of a record are no images: they stay strings.
        ...(nestedKey ? { recognize_face_attr: { [nestedKey]: nested }, list: [nested] } : {}),
      }));
    fc.assert(
      fc.property(
        fc.oneof(boxRecord, fc.array(boxRecord, { minLength: 1, maxLength: 2 })),
        fc.constantFrom('', ' ', '\n\t'),
        fc.constantFrom(50_000, 98_304, 10_000_000),
        (value, ws, maxBytes) => {
          const buf = Buffer.from(JSON.stringify(value, null, ws || undefined));
          const want = JSON.parse(buf.toString('utf8')) as unknown;
          const got = parseJsonBody(buf, BOX_LIFTED_KEYS);
          expect(materialised(got)).toEqual(want);
          const records = (Array.isArray(want) ? want : [want]) as Record<string, unknown>[];
          const gotRecords = (Array.isArray(got) ? got : [got]) as Record<string, unknown>[];
          const expectedLifted: string[] = [];
          records.forEach((r, i) => {
            for (const key of keys) {
              if (!liftable(r[key])) continue;
              expectedLifted.push(`${Array.isArray(want) ? `[${i}]` : ''}.${key}`);
              const [mine, theirs] = [decodeImage(gotRecords[i][key] as LiftedText, maxBytes), decodeImage(r[key], maxBytes)];
              if (typeof theirs === 'string') expect(mine).toBe(theirs);
              else
                expect(typeof mine !== 'string' && mine.bytes.equals(theirs.bytes) && mine.contentType === theirs.contentType).toBe(true);
            }
          });
          expect(liftedPaths(got).sort()).toEqual(expectedLifted.sort());
        },
      ),
      { numRuns: 60 },
    );
  });

  it('still refuses a control character inside a long image value, as JSON.parse does', () => {
    const text = Buffer.alloc(3000, 1).toString('base64');
    const body = Buffer.from(`{"spot_image":"${text.slice(0, 2000)}\u0001${text.slice(2000)}"}`);
    expect(() => parseJsonBody(body, BOX_LIFTED_KEYS)).toThrow(SyntaxError);
    expect(parseJsonBody(Buffer.from(`{"spot_image":"${text}"}`), BOX_LIFTED_KEYS)).toEqual({ spot_image: expect.any(LiftedText) });
  });

  it('lifts a long string only when all of it is printable ASCII without a backslash: every byte, at every alignment', () => {
    for (let byte = 0; byte < 256; byte++) {
      for (const at of [0, 1, 2, 3, 500, 501, 502, 503, LIFT_MIN_BYTES - 1]) {
        const text = Buffer.alloc(LIFT_MIN_BYTES, 'A');
        text[at] = byte;
        for (const pad of ['', 'x', 'xy', 'xyz']) {
          const buf = Buffer.concat([Buffer.from(`{"${pad}":"`), text, Buffer.from('"}')]);
          expect(ours(buf)).toEqual(reference(buf));
        }
      }
    }
  });

  it('decodes a box record with Chinese text and base64 images', () => {
    const image = Buffer.alloc(6000, 7).toString('base64');
    const body = {
      identity_name: '李娜',
      media_device_info: { media_device_name: '大厅设备' },
      reg_image: image,
      spot_image: '',
      list: [image, 'x'],
    };
    expect(parseJsonBody(Buffer.from(JSON.stringify(body)))).toEqual(body);
  });

  it('keeps the last of duplicate keys, as JSON.parse does, even when the first was a long string', () => {
    const long = 'A'.repeat(LIFT_MIN_BYTES * 2);
    expect(parseJsonBody(Buffer.from(`{"a":"${long}","a":"short"}`))).toEqual({ a: 'short' });
    expect(parseJsonBody(Buffer.from(`{"a":"short","a":"${long}"}`))).toEqual({ a: long });
  });

  it('never mistakes a string a client sent for one of its placeholders', () => {
    const long = 'A'.repeat(LIFT_MIN_BYTES);
    const body = { a: long, b: '\u0000rh-lifted-0', c: '\u0000rh-lifted-' };
    expect(parseJsonBody(Buffer.from(JSON.stringify(body)))).toEqual(body);
  });

  it('drops a UTF-8 byte order mark', () => {
    expect(parseJsonBody(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}')]))).toEqual({ a: 1 });
  });
});
