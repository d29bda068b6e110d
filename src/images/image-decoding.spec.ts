import { decodeBase64Strict, decodeImage, sniffImage } from './image-decoding';

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
});
