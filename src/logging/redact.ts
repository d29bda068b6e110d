import { createHash } from 'node:crypto';

/**
 * A box's license key as logs and metrics show it: a short prefix and a hash fragment, enough to tell
 * boxes apart and to find one in the device list, never the whole key.
 */
export function maskLicenseKey(key: string | null | undefined): string {
  if (!key) return 'unknown';
  const visible = Math.min(6, Math.floor(key.length / 3));
  return `${key.slice(0, visible)}…${createHash('sha256').update(key).digest('hex').slice(0, 8)}`;
}
