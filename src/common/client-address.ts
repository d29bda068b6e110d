import { isIPv4, isIPv6 } from 'node:net';
import type { Request } from 'express';

/** The client's address as Express reports it (the forwarded one when TRUST_PROXY is set), IPv4-mapped IPv6 unwrapped. */
export function clientAddress(req: Request): string | null {
  const ip = req.ip ?? req.socket.remoteAddress ?? null;
  return ip ? unmapped(ip) : null;
}

function unmapped(ip: string): string {
  return ip.startsWith('::ffff:') && isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
}

/**
 * What per-address limits count by: an IPv4 address as is, an IPv6 address by its /64 network, since one
 * subscriber usually holds a whole /64 and could otherwise rotate through addresses to escape a limit.
 */
export function addressKey(address: string | null | undefined): string {
  if (!address) return 'unknown';
  const ip = unmapped(address).split('%')[0];
  if (!isIPv6(ip)) return ip;
  const groups = (s: string) => (s ? s.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g])) : []);
  const cut = ip.indexOf('::');
  const head = groups(cut < 0 ? ip : ip.slice(0, cut));
  const tail = cut < 0 ? [] : groups(ip.slice(cut + 2));
  const all = cut < 0 ? head : [...head, ...Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
  return `${all
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}
