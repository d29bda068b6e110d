import type { DecodedImage } from './images.types';

/** Why a base64 field could not be used; null means it decoded. */
export type DecodeFailure = 'not_a_string' | 'invalid_base64' | 'unrecognised_format' | 'truncated_image' | 'too_large';

const DATA_URI = /^data:[\w.+/-]*(;[\w=.+-]*)*;base64,/i;

/**
 * Strict but linear base64 decoding. Buffer.from silently skips characters outside the alphabet,
 * so a decoded length shorter than the input implies is the tell of bad input; no regex runs over
 * megabytes of text.
 */
export function decodeBase64Strict(input: string): Buffer | null {
  let text = input;
  if (text.startsWith('data:')) {
    const m = DATA_URI.exec(text.slice(0, 128));
    if (!m) return null;
    text = text.slice(m[0].length);
  }
  if (text.length === 0 || text.length % 4 !== 0) return null;
  // Node also decodes the URL-safe alphabet; the box sends standard base64. indexOf is a native scan.
  if (text.indexOf('-') !== -1 || text.indexOf('_') !== -1) return null;
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const length = (text.length / 4) * 3 - padding;
  // Memory of its own, exactly this size: the image writer moves such a buffer to its thread instead of copying it
  // (Buffer.from sizes its memory for the unpadded length). Skipped characters leave fewer bytes written.
  const bytes = Buffer.allocUnsafeSlow(length);
  return bytes.write(text, 'base64') === length ? bytes : null;
}

/** Image type from magic bytes, and whether the file is complete. */
export function sniffImage(bytes: Buffer): { contentType: string } | 'unrecognised_format' | 'truncated_image' {
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) {
    // A complete JPEG ends with the EOI marker; some encoders pad after it.
    const tail = bytes.subarray(Math.max(0, bytes.length - 64));
    for (let i = tail.length - 2; i >= 0; i--) if (tail[i] === 0xff && tail[i + 1] === 0xd9) return { contentType: 'image/jpeg' };
    return 'truncated_image';
  }
  if (bytes.length >= 8 && bytes.readUInt32BE(0) === 0x89504e47 && bytes.readUInt32BE(4) === 0x0d0a1a0a) {
    return bytes
      .subarray(bytes.length - 8)
      .toString('latin1')
      .startsWith('IEND')
      ? { contentType: 'image/png' }
      : 'truncated_image';
  }
  return 'unrecognised_format';
}

export function decodeImage(value: string, maxBytes: number): DecodedImage | DecodeFailure {
  // Quick bound before decoding: base64 is 4 chars per 3 bytes.
  if (value.length > Math.ceil((maxBytes * 4) / 3) + 128) return 'too_large';
  const bytes = decodeBase64Strict(value);
  if (!bytes) return 'invalid_base64';
  if (bytes.length > maxBytes) return 'too_large';
  const sniffed = sniffImage(bytes);
  if (typeof sniffed === 'string') return sniffed;
  return { bytes, contentType: sniffed.contentType };
}
