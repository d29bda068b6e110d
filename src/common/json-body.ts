import { randomBytes } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { LiftedText } from './lifted-text';
import { isPlainObject } from './plain-object';

/** String values at least this long, in plain printable ASCII, are decoded straight from the bytes. */
export const LIFT_MIN_BYTES = 1024;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** An error body-parser would have raised; HttpErrorFilter answers it by its type. */
export class JsonBodyError extends Error {
  readonly expose = true;
  constructor(
    readonly type: 'entity.parse.failed' | 'charset.unsupported',
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

// Placeholders carry a per-process secret so that no string a client sends can be mistaken for one.
const PLACEHOLDER_PREFIX = `\u0000rh-lifted-${randomBytes(12).toString('hex')}-`;

function plainByte(b: number): boolean {
  return b >= 0x20 && b <= 0x7e && b !== BACKSLASH;
}

/**
 * True when bytes [from, to) are printable ASCII other than a backslash: the JSON string is those bytes as is. Read
 * four bytes at a time (a byte-by-byte loop took 1.2 ns a byte, a third of a typical push's parse): a word has a byte
 * under 0x20, over 0x7e or equal to 0x5c exactly when one of the classic bit tests below sets its byte's top bit.
 */
function plainAscii(buf: Buffer, from: number, to: number): boolean {
  let i = from;
  while (i < to && (buf.byteOffset + i) % 4 !== 0) if (!plainByte(buf[i++])) return false;
  const words = (to - i) >>> 2;
  if (words > 0) {
    const view = new Int32Array(buf.buffer, buf.byteOffset + i, words);
    for (let k = 0; k < words; k++) {
      const w = view[k];
      const b = w ^ 0x5c5c5c5c; // a zero byte where w has a backslash
      // below 0x20 | above 0x7e | zero byte in b
      if ((((w - 0x20202020) & ~w) | (w + 0x01010101) | w | ((b - 0x01010101) & ~b)) & 0x80808080) return false;
    }
    i += words * 4;
  }
  while (i < to) if (!plainByte(buf[i++])) return false;
  return true;
}

export function isJsonWhitespace(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
}

/** The first byte from `at` on that is not JSON whitespace, or -1. */
function nextNonWhitespace(buf: Buffer, at: number): number {
  for (let i = at; i < buf.length; i++) {
    if (!isJsonWhitespace(buf[i])) return buf[i];
  }
  return -1;
}

/** The quote that ends the JSON string opened at `open`, or -1 if it is unterminated. */
export function closingQuote(buf: Buffer, open: number): number {
  let close = open + 1;
  for (;;) {
    close = buf.indexOf(QUOTE, close);
    if (close === -1) return -1;
    let backslashes = 0;
    for (let k = close - 1; k > open && buf[k] === BACKSLASH; k--) backslashes++;
    if (backslashes % 2 === 0) return close;
    close++;
  }
}

/** Content ranges [start, end) of long plain-ASCII string values, found by pairing quotes as JSON does. */
function longPlainStrings(buf: Buffer): [number, number][] {
  const found: [number, number][] = [];
  let pos = 0;
  for (;;) {
    const open = buf.indexOf(QUOTE, pos);
    if (open === -1) return found;
    const close = closingQuote(buf, open);
    if (close === -1) return found; // unterminated: JSON.parse will say so
    // A string followed by a colon is an object key, and stays.
    if (close - open - 1 >= LIFT_MIN_BYTES && plainAscii(buf, open + 1, close) && nextNonWhitespace(buf, close + 1) !== 0x3a) {
      found.push([open + 1, close]);
    }
    pos = close + 1;
  }
}

/** Where the lifted strings were in the body: placeholder → byte range. */
type LiftedRanges = Map<string, [number, number]>;

/**
 * The top-level objects (the body, or the items of a body that is an array: the box routes' records) get a LiftedText,
 * not a string, for a lifted value under one of `keys`.
 */
function liftRecordValues(root: unknown, buf: Buffer, ranges: LiftedRanges, keys: ReadonlySet<string>): void {
  const records: unknown[] = Array.isArray(root) ? root : [root];
  for (const record of records) {
    if (!isPlainObject(record)) continue;
    for (const key of keys) {
      const v = record[key];
      if (typeof v !== 'string' || !v.startsWith(PLACEHOLDER_PREFIX)) continue;
      const range = ranges.get(v);
      if (range !== undefined) record[key] = new LiftedText(buf.subarray(range[0], range[1]));
    }
  }
}

/** Puts the lifted strings back in place of their placeholders, without recursion. */
function restore(root: unknown, buf: Buffer, ranges: LiftedRanges): void {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (node === null || typeof node !== 'object') continue;
    const container = node as Record<string, unknown>;
    for (const key of Object.keys(container)) {
      const v = container[key];
      if (typeof v === 'string') {
        if (v.startsWith(PLACEHOLDER_PREFIX)) {
          const range = ranges.get(v);
          if (range !== undefined) container[key] = buf.toString('latin1', range[0], range[1]);
        }
      } else if (v !== null && typeof v === 'object' && !(v instanceof LiftedText)) stack.push(v);
    }
  }
}

/**
 * JSON.parse of a UTF-8 body, giving exactly what JSON.parse(body.toString('utf8')) gives, faster for bodies made of
 * large base64 strings. Decoding a whole body to a JS string is the costliest step of a box push: a record's text
 * fields are Chinese, so V8 decodes all of it, megabytes of base64 included, into a two-byte string (2 ms for a
 * typical 245 KB record here), and JSON.parse then copies every string again. Long values that are plain ASCII
 * without escapes (what the box's base64 images and features are) mean the same bytes in JSON and in latin1: they
 * are cut out by byte offsets (quotes never occur inside a UTF-8 multi-byte sequence), read as one-byte strings, and
 * put back after JSON.parse has parsed the small remainder. Anything unusual stays in the text for JSON.parse.
 *
 * With `liftKeys` (the box routes' image keys), such a value under one of those keys of a top-level object is not
 * made a string at all but a LiftedText over the body's bytes, which the image decoder reads as they are.
 */
export function parseJsonBody(body: Buffer, liftKeys?: ReadonlySet<string>): unknown {
  const buf = withoutBom(body);
  const lifted = longPlainStrings(buf);
  if (lifted.length === 0) return JSON.parse(buf.toString('utf8'));
  const parts: string[] = [];
  const ranges: LiftedRanges = new Map();
  let at = 0;
  lifted.forEach(([start, end], i) => {
    const placeholder = `${PLACEHOLDER_PREFIX}${i}`;
    ranges.set(placeholder, [start, end]);
    parts.push(buf.toString('utf8', at, start), JSON.stringify(placeholder).slice(1, -1));
    at = end;
  });
  parts.push(buf.toString('utf8', at));
  const parsed: unknown = JSON.parse(parts.join(''));
  // A placeholder is missing only where JSON.parse dropped its value (a duplicate key: the last one wins).
  if (typeof parsed === 'string') {
    const range = ranges.get(parsed); // the body was one string
    return range ? buf.toString('latin1', range[0], range[1]) : parsed;
  }
  if (liftKeys) liftRecordValues(parsed, buf, ranges, liftKeys);
  restore(parsed, buf, ranges);
  return parsed;
}

/** iconv, under body-parser, drops a leading UTF-8 byte order mark. */
function withoutBom(buf: Buffer): Buffer {
  return buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? buf.subarray(3) : buf;
}

const UTF8_CHARSET = /^utf-?8$/i;

/**
 * Express middleware after body-parser's raw parser (which enforces the size limit and refuses compressed bodies):
 * turns the body bytes into JSON the way body-parser's JSON parser does (empty body → {}, only an object or an
 * array at the top, UTF-8), with errors of the same types, so the error filter answers them alike. `check` sees the
 * bytes first and may refuse them (limits on what the body holds) before JSON.parse does any work. `liftKeys`: see
 * parseJsonBody (only for routes whose handler reads LiftedText).
 */
export function jsonBody(check?: (body: Buffer) => Error | null, liftKeys?: ReadonlySet<string>): RequestHandler {
  return (req: Request, _res: Response, next: NextFunction) => {
    if (!Buffer.isBuffer(req.body)) return next();
    const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.headers['content-type'] ?? '')?.[1];
    if (charset !== undefined && !UTF8_CHARSET.test(charset)) {
      return next(new JsonBodyError('charset.unsupported', 415, `unsupported charset "${charset.toUpperCase()}"`));
    }
    const buf = withoutBom(req.body);
    if (buf.length === 0) {
      req.body = {}; // as body-parser: an empty body is a common client mistake, not an error
      return next();
    }
    const first = nextNonWhitespace(buf, 0);
    if (first !== 0x7b && first !== 0x5b) return next(new JsonBodyError('entity.parse.failed', 400, 'body is not a JSON object or array'));
    const refused = check?.(buf);
    if (refused) return next(refused);
    try {
      req.body = parseJsonBody(buf, liftKeys);
    } catch {
      return next(new JsonBodyError('entity.parse.failed', 400, 'body is not valid JSON'));
    }
    next();
  };
}
