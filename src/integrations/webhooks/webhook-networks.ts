import { LookupAddress, LookupAllOptions, LookupOneOptions, lookup as dnsLookup } from 'node:dns';
import { isIP } from 'node:net';
import { addressAllowed, parseNetworks } from '../../box-callbacks/box-access';

/**
 * Link-local addresses (169.254.0.0/16 also holds the AWS, GCP, Azure and Oracle metadata service) and the
 * other clouds' metadata addresses are refused; everything else, loopback and private networks included
 * (on-premises receivers), is allowed.
 */
export const DEFAULT_WEBHOOK_ALLOWED_NETWORKS = '!169.254.0.0/16,!fe80::/10,!fd00:ec2::254,!100.100.100.200,0.0.0.0/0,::/0';

export interface NetworkRule {
  allow: boolean;
  network: string;
}

/**
 * WEBHOOK_ALLOWED_NETWORKS: comma-separated CIDRs (or single addresses), "!" in front refuses; the first entry
 * that contains an address decides, and an address no entry contains is refused. Throws naming a bad entry.
 */
export function parseNetworkRules(spec: string): NetworkRule[] {
  const entries = spec
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new Error('lists no network');
  return entries.map((e) => {
    const allow = !e.startsWith('!');
    const [network] = parseNetworks([allow ? e : e.slice(1)]);
    return { allow, network };
  });
}

export function networkAllows(rules: readonly NetworkRule[], address: string): boolean {
  const plain = unmapped(address);
  for (const r of rules) {
    if (isIP(r.network.split('/')[0]) !== isIP(plain)) continue;
    if (addressAllowed(plain, [r.network])) return r.allow;
  }
  return false;
}

/** "::ffff:169.254.169.254" (also written ::ffff:a9fe:a9fe) is the IPv4 address as far as the network is concerned. */
function unmapped(address: string): string {
  if (isIP(address) !== 6) return address;
  const canonical = new URL(`http://[${address}]/`).hostname.slice(1, -1); // compressed, hex, lower case
  const m = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (!m) return address;
  const [hi, lo] = [parseInt(m[1], 16), parseInt(m[2], 16)];
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

/** A webhook target outside WEBHOOK_ALLOWED_NETWORKS. */
export class WebhookAddressRefused extends Error {
  readonly code = 'EWEBHOOKADDRESS';
  constructor(
    readonly host: string,
    readonly addresses: string[],
  ) {
    super(
      `${addresses.length === 1 && addresses[0] === host ? host : `${host} (${addresses.join(', ')})`} is outside WEBHOOK_ALLOWED_NETWORKS`,
    );
  }
}

/** The host of an http(s) URL as DNS or the socket sees it (IPv6 without brackets). */
export function urlHost(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http.request: resolves the name and hands the socket only allowed addresses, so the address
 * checked is the address connected to (a name re-pointed between a check and the connection gains nothing).
 */
export function guardedLookup(rules: readonly NetworkRule[]) {
  return (hostname: string, options: LookupOneOptions | LookupAllOptions, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const allowed = addresses.filter((a) => networkAllows(rules, a.address));
      if (allowed.length === 0)
        return callback(
          new WebhookAddressRefused(
            hostname,
            addresses.map((a) => a.address),
          ),
          [],
        );
      if ((options as LookupAllOptions).all) return callback(null, allowed);
      callback(null, allowed[0].address, allowed[0].family);
    });
  };
}

/** Every address of a host (an IP literal is its own), or null when the name does not resolve within timeoutMs. */
export function resolveAll(host: string, timeoutMs = 5000): Promise<string[] | null> {
  if (isIP(host)) return Promise.resolve([host]);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), timeoutMs);
    dnsLookup(host, { all: true }, (err, addresses) => {
      clearTimeout(timer);
      resolve(err ? null : addresses.map((a) => a.address));
    });
  });
}
