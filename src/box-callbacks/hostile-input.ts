import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { HttpException, HttpStatus } from '@nestjs/common';
import { closingQuote, isJsonWhitespace } from '../common/json-body';
import { LiftedText } from '../common/lifted-text';
import { PayloadFieldError } from '../common/payload-error';

/**
 * What one request body may hold. Bodies beyond these are refused (400 naming the spot) before anything walks them:
 * no real box comes near them, and they bound the work a push costs to its size.
 */
export interface JsonLimits {
  /** Deepest nesting (a record is 3 levels deep; arrays of records 4). */
  maxDepth: number;
  /** Keys in one object (a whole record has well under 200). */
  maxObjectKeys: number;
  /** Keys and array items in the whole body (100 older-firmware records with 512-number features hold ~60,000). */
  maxValues: number;
  /** Length of one key in UTF-8 bytes (the box's own keys are under 32). */
  maxKeyBytes: number;
}

export const JSON_LIMITS: Readonly<JsonLimits> = { maxDepth: 32, maxObjectKeys: 1000, maxValues: 200_000, maxKeyBytes: 256 };

/** Keys that would reach an object's prototype if some code copied them by assignment. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

const UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** "32mb" → bytes, with the 1024-based units body-parser uses for the same setting. */
export function parseByteLimit(limit: string): number {
  const m = /^(\d+)(b|kb|mb|gb)?$/i.exec(limit.trim());
  if (!m) throw new Error(`not a byte size: ${limit}`);
  return Number(m[1]) * UNITS[(m[2] ?? 'b').toLowerCase()];
}

export interface ShapeProblem {
  field: string;
  message: string;
}

/** Paths in errors are built from keys the client chose: keep them short. */
function pathOf(parent: string, key: string | number): string {
  const seg = typeof key === 'number' ? `[${key}]` : key.length > 64 ? `${key.slice(0, 64)}…` : key;
  const path = typeof key === 'number' ? `${parent}${seg}` : parent ? `${parent}.${seg}` : seg;
  return path.length > 256 ? `…${path.slice(-255)}` : path;
}

const tooDeep = (path: string, l: JsonLimits): ShapeProblem => ({
  field: path || 'body',
  message: `JSON is nested deeper than ${l.maxDepth} levels`,
});
const tooManyKeys = (path: string, l: JsonLimits): ShapeProblem => ({
  field: path || 'body',
  message: `${path || 'body'} has more than ${l.maxObjectKeys} keys`,
});
const tooManyValues = (l: JsonLimits): ShapeProblem => ({
  field: 'body',
  message: `body holds more than ${l.maxValues} keys and array items`,
});
const keyTooLong = (path: string, l: JsonLimits): ShapeProblem => ({ field: path, message: `a key is longer than ${l.maxKeyBytes} bytes` });

/**
 * Checks a parsed JSON value against the limits and for prototype-reaching keys, without recursion (hostile input
 * must not overflow the stack). V8's JSON.parse is itself iterative, so this runs before anything recursive
 * (class-transformer, JSON.stringify) sees the body. Cost is proportional to the number of keys and items, not to the
 * bytes of long strings, and stops at the first excess.
 */
export function checkJsonShape(root: unknown, limits: JsonLimits = JSON_LIMITS): ShapeProblem | null {
  if (root === null || typeof root !== 'object') return null;
  const stack: { value: object; depth: number; path: string }[] = [{ value: root, depth: 1, path: '' }];
  let values = 0;
  while (stack.length > 0) {
    const { value, depth, path } = stack.pop()!;
    if (depth > limits.maxDepth) return tooDeep(path, limits);
    if (Array.isArray(value)) {
      values += value.length;
      if (values > limits.maxValues) return tooManyValues(limits);
      for (let i = 0; i < value.length; i++) {
        const v: unknown = value[i];
        if (v !== null && typeof v === 'object') stack.push({ value: v, depth: depth + 1, path: pathOf(path, i) });
      }
      continue;
    }
    const keys = Object.keys(value);
    if (keys.length > limits.maxObjectKeys) return tooManyKeys(path, limits);
    values += keys.length;
    if (values > limits.maxValues) return tooManyValues(limits);
    for (const key of keys) {
      if (FORBIDDEN_KEYS.has(key)) {
        return { field: pathOf(path, key), message: `the key "${key}" is not accepted` };
      }
      // A UTF-16 unit is at most 3 UTF-8 bytes: only long keys need measuring.
      if (key.length * 3 > limits.maxKeyBytes && Buffer.byteLength(key) > limits.maxKeyBytes) return keyTooLong(pathOf(path, key), limits);
      const v: unknown = (value as Record<string, unknown>)[key];
      // A LiftedText is a string (the box routes' images).
      if (v !== null && typeof v === 'object' && !(v instanceof LiftedText)) {
        stack.push({ value: v, depth: depth + 1, path: pathOf(path, key) });
      }
    }
  }
  return null;
}

interface OpenContainer {
  object: boolean;
  /** Keys or items so far. */
  count: number;
  /** An object's latest key, as byte offsets of its JSON text. */
  keyStart: number;
  keyEnd: number;
  /** Next comes a key (object) or an item (array). */
  expecting: boolean;
}

const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const QUOTE = 0x22;

/** A key's text; escapes decoded when it has any (errors name it as the parsed body would). */
function keyText(buf: Buffer, start: number, end: number): string {
  const raw = buf.toString('utf8', start, end);
  if (!raw.includes('\\')) return raw;
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw; // JSON.parse of the body will refuse it
  }
}

/** The path of the value open at depth `depth` (its containers' current keys and indexes). */
function pathAt(buf: Buffer, stack: OpenContainer[], depth: number): string {
  let path = '';
  for (let d = 0; d < depth; d++) {
    const c = stack[d];
    path = c.object ? pathOf(path, keyText(buf, c.keyStart, c.keyEnd)) : pathOf(path, c.count - 1);
  }
  return path;
}

/**
 * The same limits as checkJsonShape, read off the body's bytes before JSON.parse builds anything: parsing a 12 MB
 * object of a million keys alone takes a second. One pass, no recursion, stopping at the first excess; strings are
 * skipped with Buffer.indexOf. It only counts: malformed JSON is left for JSON.parse to refuse.
 */
export function checkJsonBytes(buf: Buffer, limits: JsonLimits = JSON_LIMITS): ShapeProblem | null {
  const stack: OpenContainer[] = [];
  let values = 0;
  // An item of the innermost array starts here: count it.
  const item = (top: OpenContainer | undefined): ShapeProblem | null => {
    if (!top || top.object || !top.expecting) return null;
    top.expecting = false;
    top.count++;
    return ++values > limits.maxValues ? tooManyValues(limits) : null;
  };
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i];
    if (isJsonWhitespace(b) || b === COLON) continue;
    const top = stack.length > 0 ? stack[stack.length - 1] : undefined;
    if (b === QUOTE) {
      const close = closingQuote(buf, i);
      if (close === -1) return null;
      if (top?.object && top.expecting) {
        top.expecting = false;
        top.keyStart = i + 1;
        top.keyEnd = close;
        if (++top.count > limits.maxObjectKeys) return tooManyKeys(pathAt(buf, stack, stack.length - 1), limits);
        if (++values > limits.maxValues) return tooManyValues(limits);
        if (close - i - 1 > limits.maxKeyBytes && Buffer.byteLength(keyText(buf, i + 1, close)) > limits.maxKeyBytes) {
          return keyTooLong(pathAt(buf, stack, stack.length), limits);
        }
      } else {
        const problem = item(top);
        if (problem) return problem;
      }
      i = close;
    } else if (b === OPEN_OBJECT || b === OPEN_ARRAY) {
      const problem = item(top);
      if (problem) return problem;
      stack.push({ object: b === OPEN_OBJECT, count: 0, keyStart: 0, keyEnd: 0, expecting: true });
      if (stack.length > limits.maxDepth) return tooDeep(pathAt(buf, stack, stack.length - 1), limits);
    } else if (b === CLOSE_OBJECT || b === CLOSE_ARRAY) {
      stack.pop();
    } else if (b === COMMA) {
      if (top) top.expecting = true;
    } else {
      // A number or a literal; its further bytes find the item already counted.
      const problem = item(top);
      if (problem) return problem;
    }
  }
  return null;
}

/** For jsonBody(): the byte check as the 400 the error filter answers. */
export function jsonBytesCheck(limits: JsonLimits = JSON_LIMITS): (body: Buffer) => PayloadFieldError | null {
  return (body) => {
    const problem = checkJsonBytes(body, limits);
    return problem ? new PayloadFieldError(problem.field, problem.message) : null;
  };
}

/** After the JSON parser: refuse over-limit or prototype-poisoning bodies with 400 naming the spot. */
export function jsonShapeGuard(limits: JsonLimits = JSON_LIMITS): RequestHandler {
  return (req: Request, _res: Response, next: NextFunction) => {
    const problem = checkJsonShape(req.body, limits);
    if (problem) return next(new PayloadFieldError(problem.field, problem.message));
    next();
  };
}

/**
 * Before the JSON parser: a declared Content-Length over the limit is answered 413 at once, without
 * reading the body (body-parser would read the whole upload off the socket before answering).
 * Chunked bodies are still cut at the limit by body-parser itself.
 */
export function contentLengthGuard(limitBytes: number): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > limitBytes) {
      // The unread body is not drained: the connection ends with the answer.
      res.setHeader('Connection', 'close');
      return next(
        new HttpException(
          { statusCode: 413, error: 'Payload Too Large', message: 'body is larger than the configured limit', field: 'body' },
          HttpStatus.PAYLOAD_TOO_LARGE,
        ),
      );
    }
    next();
  };
}
