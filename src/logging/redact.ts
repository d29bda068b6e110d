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

const CALLBACK_TOKEN = /^\/box-callbacks\/[^/?]+\/recognition-records/;
const PARAM_NAME = /^[\w.[\]-]{1,64}$/;

/**
 * A request URL as logs show it: query values are never kept (an API key, a license key or a name may be
 * passed there), only the parameter names; a box's callback secret in the path is blanked too.
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  const path = (q < 0 ? url : url.slice(0, q)).replace(CALLBACK_TOKEN, '/box-callbacks/…/recognition-records');
  if (q < 0) return path;
  const params = url
    .slice(q + 1)
    .split('&')
    .filter((p) => p !== '')
    .slice(0, 20)
    .map((p) => {
      const eq = p.indexOf('=');
      const name = eq < 0 ? '' : p.slice(0, eq);
      return PARAM_NAME.test(name) ? `${name}=…` : '…';
    });
  return `${path}?${params.join('&')}`;
}
