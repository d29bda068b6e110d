import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A fresh callback secret: 32 URL-safe characters (192 random bits). */
export function generateCallbackToken(): string {
  return randomBytes(24).toString('base64url');
}

/** Only the hash is stored, so a database leak does not reveal the URLs configured on the boxes. */
export function hashCallbackToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Compares a presented token with the stored hash in constant time (both are 32-byte digests). */
export function callbackTokenMatches(presented: string, storedHashHex: string): boolean {
  const expected = Buffer.from(storedHashHex, 'hex');
  const actual = createHash('sha256').update(presented, 'utf8').digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

// The CIDR helpers moved to src/config/ip-networks.ts (webhooks use them too); named here for the box access code.
export { addressAllowed, parseNetworks } from '../config/ip-networks';
