import { Injectable } from '@nestjs/common';
import { isIP } from 'node:net';
import { AppConfig } from '../../config/app-config.service';
import { webhookTargetRefused } from './webhook-errors';
import {
  guardedLookup,
  networkAllows,
  NetworkRule,
  parseNetworkRules,
  resolveAll,
  urlHost,
  WebhookAddressRefused,
} from './webhook-networks';

/** Keeps webhooks inside WEBHOOK_ALLOWED_NETWORKS: when a URL is configured, and again on every connection. */
@Injectable()
export class WebhookTargetGuard {
  readonly rules: NetworkRule[];
  /** For http.request: a host name connects only to its allowed addresses. */
  readonly lookup: ReturnType<typeof guardedLookup>;

  constructor(config: AppConfig) {
    this.rules = parseNetworkRules(config.get('WEBHOOK_ALLOWED_NETWORKS'));
    this.lookup = guardedLookup(this.rules);
  }

  /**
   * 400 naming `url` when the host is, or only resolves to, refused addresses. A name that does not resolve yet is
   * accepted: the connection is checked at delivery anyway.
   */
  async checkUrl(url: string): Promise<void> {
    const host = urlHost(new URL(url));
    const addresses = await resolveAll(host);
    if (addresses && addresses.length > 0 && !addresses.some((a) => networkAllows(this.rules, a))) {
      throw webhookTargetRefused(new WebhookAddressRefused(host, addresses).message);
    }
  }

  /** An IP-literal URL never goes through lookup: it is checked here before connecting. */
  refusedLiteral(url: URL): WebhookAddressRefused | null {
    const host = urlHost(url);
    return isIP(host) && !networkAllows(this.rules, host) ? new WebhookAddressRefused(host, [host]) : null;
  }
}
