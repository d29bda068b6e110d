/**
 * Decoders for values read with hand-written SQL, where the drivers differ: PostgreSQL returns int8 as a string
 * and booleans as booleans, SQLite returns booleans as 0/1, and simple-json columns come back as text.
 */

export function rowBool(v: unknown): boolean {
  return v === true || v === 1 || v === '1' || v === 't';
}

export function rowNumber(v: unknown): number | null {
  return v === null || v === undefined ? null : Number(v);
}

export function rowJson<T>(v: unknown): T | null {
  return v === null || v === undefined ? null : typeof v === 'string' ? (JSON.parse(v) as T) : (v as T);
}
