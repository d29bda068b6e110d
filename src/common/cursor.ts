import { DomainError } from './domain-error';

/** Opaque keyset cursors: base64url JSON of the last row's sort key. */
export function encodeCursor(key: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

export function decodeCursor<T extends object>(cursor: string, shape: Record<keyof T, 'string' | 'number'>): T {
  const invalid = () => new DomainError('invalid', 'cursor_invalid', 'cursor is not one this API issued', 'cursor');
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!value || typeof value !== 'object') throw invalid();
  for (const [k, type] of Object.entries(shape)) {
    const v = (value as Record<string, unknown>)[k];
    if (typeof v !== type || (type === 'number' && !Number.isSafeInteger(v))) throw invalid();
  }
  return value as T;
}
