import fc from 'fast-check';
import { base64Variant } from '../../test/helpers/base64-variants';
import { LiftedText } from '../common/lifted-text';
import { BASE64_CHUNK_CHARS, decodeBase64BytesStrict, decodeBase64Strict, decodeImage, sniffImage } from './image-decoding';

const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(100, 7), Buffer.from([0xff, 0xd9])]);
const png = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.alloc(40, 1),
  Buffer.from('IEND\xaeB`\x82', 'latin1'),
]);

describe('decodeBase64Strict', () => {
  it.each([
    ['YWJj', 'abc'],
    ['YWI=', 'ab'],
    ['YQ==', 'a'],
    ['data:image/jpeg;base64,YWJj', 'abc'],
  ])('decodes %s', (text, plain) => expect(decodeBase64Strict(text)?.toString()).toBe(plain));

  it.each(['', 'YWJ', 'YW*j', 'YQ==YQ==', 'YW\nJj', ' YWJ', 'data:text/plain,YWJj', 'YWJjZA=a', 'YW-_'])('refuses %p', (text) => {
    expect(decodeBase64Strict(text)).toBeNull();
  });
});

describe('decodeBase64BytesStrict', () => {
  const fromBytes = (text: string) => decodeBase64BytesStrict(Buffer.from(text, 'latin1'));
  // Compared as text: Jest compares Buffers byte by byte, slowly.
  const shown = (bytes: Buffer | null) => bytes?.toString('base64') ?? null;

  it.each([
    'YWJj',
    'YWI=',
    'YQ==',
    'data:image/jpeg;base64,YWJj',
    '',
    'YWJ',
    'YW*j',
    'YQ==YQ==',
    ' YWJ',
    'data:text/plain,YWJj',
    'YWJjZA=a',
    'YW-_',
    'data:',
    'A===',
  ])('gives what decodeBase64Strict gives for %p', (text) => expect(fromBytes(text)).toEqual(decodeBase64Strict(text)));

  it('gives what decodeBase64Strict gives for valid and broken base64 of every size, across its chunks', () => {
    fc.assert(
      fc.property(base64Variant, (text) => expect(shown(fromBytes(text))).toBe(shown(decodeBase64Strict(text)))),
      { numRuns: 300 },
    );
  });

  it('finds a fault in any chunk, and padding only at the very end', () => {
    const text = Buffer.alloc((BASE64_CHUNK_CHARS / 4) * 3 * 3, 9).toString('base64');
    expect(shown(fromBytes(text))).toBe(text);
    for (const at of [0, BASE64_CHUNK_CHARS - 1, BASE64_CHUNK_CHARS, 2 * BASE64_CHUNK_CHARS + 5, text.length - 2]) {
      for (const c of ['=', '*', '-']) expect(fromBytes(text.slice(0, at) + c + text.slice(at + 1))).toBeNull();
    }
    // A chunk that ends in padding stops there; the whole text would have too.
    expect(fromBytes(text.slice(0, BASE64_CHUNK_CHARS - 2) + '==' + text.slice(BASE64_CHUNK_CHARS))).toBeNull();
  });
});

describe('images', () => {
  it('recognises complete JPEG and PNG by magic bytes', () => {
    expect(sniffImage(jpeg)).toEqual({ contentType: 'image/jpeg' });
    expect(sniffImage(png)).toEqual({ contentType: 'image/png' });
  });

  it.each([
    [Buffer.from('GIF89a........'), 'unrecognised_format'],
    [Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'), 'unrecognised_format'],
    [jpeg.subarray(0, 50), 'truncated_image'],
    [png.subarray(0, 30), 'truncated_image'],
  ])('refuses non-images and truncated files (%#)', (bytes, failure) => {
    expect(sniffImage(bytes)).toBe(failure);
  });

  it('enforces the size limit on the decoded bytes, cheaply before decoding', () => {
    expect(decodeImage(jpeg.toString('base64'), 1024)).toMatchObject({ contentType: 'image/jpeg' });
    expect(decodeImage(jpeg.toString('base64'), 105)).toBe('too_large');
    expect(decodeImage('A'.repeat(10_000_000), 1024)).toBe('too_large');
  });

  it('decodes a LiftedText (a JSON string left as the body bytes) as it decodes the string', () => {
    const lifted = (text: string) => new LiftedText(Buffer.from(text, 'latin1'));
    fc.assert(
      fc.property(base64Variant, fc.constantFrom(50_000, 98_304, 200_000), (text, max) => {
        const [ours, theirs] = [decodeImage(lifted(text), max), decodeImage(text, max)];
        if (typeof theirs === 'string') expect(ours).toBe(theirs);
        else
          expect(typeof ours !== 'string' && [ours.contentType, ours.bytes.toString('base64')]).toEqual([
            theirs.contentType,
            theirs.bytes.toString('base64'),
          ]);
      }),
      { numRuns: 100 },
    );
    expect(decodeImage(lifted(jpeg.toString('base64')), 1024)).toEqual({ bytes: jpeg, contentType: 'image/jpeg' });
    expect(decodeImage(lifted('A'.repeat(2000)), 1024)).toBe('too_large');
  });
});
