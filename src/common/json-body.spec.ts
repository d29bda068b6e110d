import fc from 'fast-check';
import { LIFT_MIN_BYTES, parseJsonBody } from './json-body';

/** What body-parser did: the whole body as one UTF-8 string (iconv drops a byte order mark), then JSON.parse. */
function reference(buf: Buffer): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(buf.toString('utf8').replace(/^\uFEFF/, '')) };
  } catch {
    return { ok: false };
  }
}

function ours(buf: Buffer): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: parseJsonBody(buf) };
  } catch {
    return { ok: false };
  }
}

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
