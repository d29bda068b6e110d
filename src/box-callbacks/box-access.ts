import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { BlockList, isIP } from 'node:net';

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

/** Validates and normalises "10.0.0.0/8", "192.168.1.7" (one host) or IPv6 CIDRs; throws naming the bad one. */
export function parseNetworks(list: string[]): string[] {
  return list.map((raw) => {
    const text = raw.trim();
    const slash = text.indexOf('/');
    const address = slash < 0 ? text : text.slice(0, slash);
    const family = isIP(address);
    if (family === 0) throw new Error(`"${text}" is not an IP address or CIDR network`);
    const max = family === 4 ? 32 : 128;
    const prefixText = slash < 0 ? String(max) : text.slice(slash + 1);
    const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
    if (!(prefix >= 0 && prefix <= max)) throw new Error(`"${text}" has an invalid prefix length (0-${max})`);
    return `${address}/${prefix}`;
  });
}

/** Whether a source address lies in one of the networks (node's BlockList does the matching). */
export function addressAllowed(address: string | null, networks: string[]): boolean {
  if (!address) return false;
  const family = isIP(address);
  if (family === 0) return false;
  const list = new BlockList();
  for (const n of networks) {
    const [net, prefix] = n.split('/');
    const netFamily = isIP(net);
    if (netFamily === 0) continue;
    list.addSubnet(net, Number(prefix), netFamily === 4 ? 'ipv4' : 'ipv6');
  }
  return list.check(address, family === 4 ? 'ipv4' : 'ipv6');
}
