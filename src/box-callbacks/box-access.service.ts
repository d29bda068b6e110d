import { Injectable } from '@nestjs/common';
import { DomainError } from '../common/domain-error';
import { AppConfig } from '../config/app-config.service';
import { BoxAccessSettings, BoxSettings, DevicesService } from '../devices/devices.service';
import { addressAllowed, callbackTokenMatches, generateCallbackToken, hashCallbackToken, parseNetworks } from './box-access';

export type BoxAuthMode = 'open' | 'registered';

export type BoxRefusalReason =
  'box_unknown' | 'box_disabled' | 'token_required' | 'token_mismatch' | 'token_not_configured' | 'network_not_allowed';

/**
 * Why a push was refused; 'unauthenticated' maps to 401, 'forbidden' to 403 at the HTTP edge. The reason is the
 * error's code and, as before codes existed, also the body's `reason`.
 */
export class BoxAccessDenied extends DomainError {
  declare readonly kind: 'unauthenticated' | 'forbidden';

  constructor(
    kind: 'unauthenticated' | 'forbidden',
    readonly reason: BoxRefusalReason,
    field: string,
    message: string,
    /** The refused box's license key when it is registered (null for a key the hub does not know). */
    readonly registeredLicenseKey: string | null = null,
  ) {
    super(kind, reason, message, field, { reason });
  }
}

/** One box of a push: its license key and the field that carried it ("[2].dev_sno"). */
export interface PushingBox {
  licenseKey: string;
  field: string;
}

export interface PushContext {
  sourceAddress: string | null;
  /** The secret from /box-callbacks/<token>/recognition-records; undefined on the plain URL. */
  token: string | undefined;
  /** Told each registered box of the push that passed the access checks (metrics label only such boxes). */
  onRecognised?: (licenseKey: string) => void;
}

/** What an operator sees of a box's access settings (never the secret itself). */
export interface BoxAccessView {
  licenseKey: string;
  name: string | null;
  enabled: boolean;
  hasCallbackToken: boolean;
  allowedNetworks: string[] | null;
}

/**
 * Decides whether a push may be stored, from the box's settings (DevicesService), before anything is written (a refused
 * push never registers its box); and lets an operator set a box's secret, networks and state.
 */
@Injectable()
export class BoxAccessService {
  constructor(
    private readonly devices: DevicesService,
    private readonly mode: BoxAuthMode,
  ) {}

  static fromConfig(devices: DevicesService, config: AppConfig): BoxAccessService {
    return new BoxAccessService(devices, config.get('BOX_AUTH_MODE'));
  }

  /** Throws BoxAccessDenied for the first box of the push that may not push. */
  async authorize(boxes: PushingBox[], ctx: PushContext): Promise<void> {
    const byKey = new Map<string, PushingBox>();
    for (const b of boxes) if (!byKey.has(b.licenseKey)) byKey.set(b.licenseKey, b);
    // The common open set-up, without secrets or networks, still needs the row: a disabled box is refused.
    const found = new Map((await this.devices.accessSettings([...byKey.keys()])).map((r) => [r.licenseKey, r]));
    for (const [key, box] of byKey) this.check(box, found.get(key), ctx);
    for (const key of byKey.keys()) if (found.has(key)) ctx.onRecognised?.(key);
  }

  private check(box: PushingBox, row: BoxAccessSettings | undefined, ctx: PushContext): void {
    const denied = (kind: BoxAccessDenied['kind'], reason: BoxRefusalReason, field: string, message: string) =>
      new BoxAccessDenied(kind, reason, field, message, row ? box.licenseKey : null);
    // A token URL for a box without a secret (registered or not) is refused before anything else.
    if (ctx.token !== undefined && !row?.callbackTokenHash) {
      throw denied(
        'unauthenticated',
        'token_not_configured',
        'token',
        'no callback token is configured for this box; use the plain callback URL or configure one',
      );
    }
    if (!row) {
      if (this.mode === 'registered') {
        throw denied('unauthenticated', 'box_unknown', box.field, 'this box is not registered, and only registered boxes are accepted');
      }
      return;
    }
    if (row.callbackTokenHash) {
      if (ctx.token === undefined) {
        throw denied('unauthenticated', 'token_required', 'token', 'this box must push to its callback URL with its token');
      }
      if (!callbackTokenMatches(ctx.token, row.callbackTokenHash)) {
        throw denied('unauthenticated', 'token_mismatch', 'token', 'the callback token is wrong for this box');
      }
    }
    if (!row.enabled) {
      throw denied('forbidden', 'box_disabled', box.field, 'this box is disabled');
    }
    const networks = row.allowedNetworks;
    if (networks && networks.length > 0 && !addressAllowed(ctx.sourceAddress, networks)) {
      throw denied('forbidden', 'network_not_allowed', 'source_address', 'this box may not push from this network address');
    }
  }

  // --- Operator actions (CLI: npm run box-access); the boxes table itself belongs to DevicesService ---

  /** Registers a box ahead of its first push (needed when BOX_AUTH_MODE=registered); idempotent. */
  async register(licenseKey: string, name?: string): Promise<BoxAccessView> {
    return view(await this.devices.register(licenseKey, name));
  }

  /** Gives the box a new callback secret (registering it if needed); returns the secret, shown once. */
  async issueToken(licenseKey: string): Promise<{ token: string; box: BoxAccessView }> {
    await this.devices.register(licenseKey);
    const token = generateCallbackToken();
    await this.devices.setCallbackTokenHash(licenseKey, hashCallbackToken(token));
    return { token, box: await this.describe(licenseKey) };
  }

  async clearToken(licenseKey: string): Promise<BoxAccessView> {
    await this.devices.register(licenseKey);
    await this.devices.setCallbackTokenHash(licenseKey, null);
    return this.describe(licenseKey);
  }

  /** Limits the box to these CIDR networks; null or an empty list allows any address. */
  async setNetworks(licenseKey: string, networks: string[] | null): Promise<BoxAccessView> {
    const parsed = networks && networks.length > 0 ? parseNetworks(networks) : null;
    await this.devices.register(licenseKey);
    await this.devices.setAllowedNetworks(licenseKey, parsed);
    return this.describe(licenseKey);
  }

  async setEnabled(licenseKey: string, enabled: boolean): Promise<BoxAccessView> {
    await this.devices.register(licenseKey);
    await this.devices.setEnabled({ licenseKey }, enabled);
    return this.describe(licenseKey);
  }

  async describe(licenseKey: string): Promise<BoxAccessView> {
    const box = await this.devices.settings(licenseKey);
    if (!box) throw new Error(`no box with license key ${licenseKey}`);
    return view(box);
  }
}

function view(box: BoxSettings): BoxAccessView {
  return {
    licenseKey: box.licenseKey,
    name: box.name,
    enabled: box.enabled,
    hasCallbackToken: box.hasCallbackToken,
    allowedNetworks: box.allowedNetworks,
  };
}
