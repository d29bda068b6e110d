import type { LiftedText } from '../common/lifted-text';
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

const DASH = 0x2d;
const UNDERSCORE = 0x5f;
const EQUALS = 0x3d;
/**
 * Characters decoded at a time from bytes: a multiple of 4, and its one-byte string (64 KB) stays under V8's
 * large-object threshold (128 KB), beyond which every string costs an mmap and page faults.
 */
export const BASE64_CHUNK_CHARS = 64 * 1024;

/**
 * decodeBase64Strict of the string whose characters are these bytes (printable ASCII), with the same verdict and the
 * same result, without building that string: the checks scan the bytes, and the text is decoded a chunk at a time
 * into one buffer of the exact size. Node's decoder skips characters outside the alphabet and stops a chunk at '=', so
 * each chunk yields at most 3/4 of its length, and fewer exactly where the whole text would have: the total equals
 * the expected size only when decoding the whole text would have given it, and then the bytes are the same.
 */
export function decodeBase64BytesStrict(ascii: Buffer): Buffer | null {
  let start = 0;
  if (ascii.length >= 5 && ascii.toString('latin1', 0, 5) === 'data:') {
    const m = DATA_URI.exec(ascii.toString('latin1', 0, 128));
    if (!m) return null;
    start = m[0].length;
  }
  const length = ascii.length - start;
  if (length === 0 || length % 4 !== 0) return null;
  if (ascii.indexOf(DASH, start) !== -1 || ascii.indexOf(UNDERSCORE, start) !== -1) return null;
  const end = ascii.length;
  const padding = ascii[end - 1] === EQUALS ? (ascii[end - 2] === EQUALS ? 2 : 1) : 0;
  const size = (length / 4) * 3 - padding;
  const out = Buffer.allocUnsafe(size);
  let written = 0;
  for (let at = start; at < end; at += BASE64_CHUNK_CHARS) {
    written += out.write(ascii.toString('latin1', at, Math.min(end, at + BASE64_CHUNK_CHARS)), written, 'base64');
  }
  return written === size ? out : null;
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

/** A base64 image, as a string or as a body's bytes (LiftedText, decoded alike without a string). */
export function decodeImage(value: string | LiftedText, maxBytes: number): DecodedImage | DecodeFailure {
  // Quick bound before decoding: base64 is 4 chars per 3 bytes.
  if (value.length > Math.ceil((maxBytes * 4) / 3) + 128) return 'too_large';
  const bytes = typeof value === 'string' ? decodeBase64Strict(value) : decodeBase64BytesStrict(value.bytes);
  if (!bytes) return 'invalid_base64';
  if (bytes.length > maxBytes) return 'too_large';
  const sniffed = sniffImage(bytes);
  if (typeof sniffed === 'string') return sniffed;
  return { bytes, contentType: sniffed.contentType };
}
