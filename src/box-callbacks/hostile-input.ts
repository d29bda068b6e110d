import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { HttpException, HttpStatus } from '@nestjs/common';
import { PayloadFieldError } from '../common/payload-error';

/** Deepest JSON nesting accepted (a record is 3 levels deep; arrays of records 4). */
export const MAX_JSON_DEPTH = 32;

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

/**
 * Checks a parsed JSON value for nesting deeper than maxDepth and for prototype-reaching keys,
 * without recursion (hostile input must not overflow the stack). V8's JSON.parse is itself
 * iterative, so this runs before anything recursive (class-transformer, JSON.stringify) sees the body.
 * Cost is proportional to the number of objects and keys, not to the bytes of long strings.
 */
export function checkJsonShape(root: unknown, maxDepth = MAX_JSON_DEPTH): ShapeProblem | null {
  if (root === null || typeof root !== 'object') return null;
  const stack: { value: object; depth: number; path: string }[] = [{ value: root, depth: 1, path: '' }];
  while (stack.length > 0) {
    const { value, depth, path } = stack.pop()!;
    if (depth > maxDepth) {
      return { field: path || 'body', message: `JSON is nested deeper than ${maxDepth} levels` };
    }
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const v: unknown = value[i];
        if (v !== null && typeof v === 'object') stack.push({ value: v, depth: depth + 1, path: pathOf(path, i) });
      }
      continue;
    }
    for (const key of Object.keys(value)) {
      if (FORBIDDEN_KEYS.has(key)) {
        return { field: pathOf(path, key), message: `the key "${key}" is not accepted` };
      }
      const v: unknown = (value as Record<string, unknown>)[key];
      if (v !== null && typeof v === 'object') stack.push({ value: v, depth: depth + 1, path: pathOf(path, key) });
    }
  }
  return null;
}

/** After the JSON parser: refuse over-deep or prototype-poisoning bodies with 400 naming the spot. */
export function jsonShapeGuard(maxDepth = MAX_JSON_DEPTH): RequestHandler {
  return (req: Request, _res: Response, next: NextFunction) => {
    const problem = checkJsonShape(req.body, maxDepth);
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
