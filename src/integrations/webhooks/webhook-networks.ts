import { LookupAddress, LookupAllOptions, LookupOneOptions, lookup as dnsLookup } from 'node:dns';
import { isIP } from 'node:net';
import { networkAllows, NetworkRule } from '../../config/ip-networks';

// The rule parser and matcher live in src/config/ip-networks.ts (configuration validates WEBHOOK_ALLOWED_NETWORKS
// with them at start-up); the default list is configuration's. Named here for the webhook code.
export { DEFAULT_WEBHOOK_ALLOWED_NETWORKS } from '../../config/environment';
export { networkAllows, parseNetworkRules } from '../../config/ip-networks';
export type { NetworkRule } from '../../config/ip-networks';

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
