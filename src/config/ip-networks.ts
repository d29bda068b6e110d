// CIDR network lists, as settings take them (WEBHOOK_ALLOWED_NETWORKS, a box's allowed networks); no dependencies, so
// configuration can validate them at start-up and the box edge and the webhooks can match addresses with them.
import { BlockList, isIP } from 'node:net';

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
