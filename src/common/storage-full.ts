/** Seconds a write refused for lack of space is told to wait; the box retries the same event anyway. */
export const STORAGE_FULL_RETRY_AFTER_SECONDS = 10;

/**
 * Codes that mean "no space": the filesystem (ENOSPC, EDQUOT: quota), SQLite (SQLITE_FULL: no room for the WAL or
 * the database, or max_page_count reached) and PostgreSQL (53100 disk_full). Nothing was stored, and the same write
 * can succeed once space returns, so it is answered 503 with Retry-After rather than 500.
 */
const STORAGE_FULL_CODES = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL', '53100']);

/** Whether the error, or one it wraps (TypeORM's driverError, an Error's cause), reports a full disk. */
export function isStorageFull(error: unknown): boolean {
  let e = error;
  for (let depth = 0; depth < 8 && e !== null && typeof e === 'object'; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && STORAGE_FULL_CODES.has(code)) return true;
    e = (e as { driverError?: unknown }).driverError ?? (e as { cause?: unknown }).cause;
  }
  return false;
}
