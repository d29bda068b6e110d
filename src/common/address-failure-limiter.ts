import { addressKey } from './client-address';

interface Window {
  start: number;
  failures: number;
}

/**
 * Counts failures (wrong API keys, refused box credentials) per client address in fixed windows: once an address
 * has `limit` failures in its window, it is refused until that window ends. Refused requests are not checked and not
 * counted, so a block always lifts at the end of the window. Per instance, in memory; IPv6 counts per /64.
 */
export class AddressFailureLimiter {
  /** In order of window start, so expired windows are at the front. */
  private readonly windows = new Map<string, Window>();

  constructor(
    /** Failures allowed per window; 0 turns the limit off. */
    readonly limit: number,
    readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
    /** Addresses remembered at most (memory stays bounded when many addresses fail). */
    private readonly maxTracked = 100_000,
  ) {}

  /** Whole seconds until the address may try again, or 0 when it is not blocked. */
  retryAfterSeconds(address: string | null): number {
    if (this.limit === 0) return 0;
    const w = this.current(addressKey(address));
    if (!w || w.failures < this.limit) return 0;
    return Math.max(1, Math.ceil((w.start + this.windowMs - this.now()) / 1000));
  }

  recordFailure(address: string | null): void {
    if (this.limit === 0) return;
    const key = addressKey(address);
    let w = this.current(key);
    if (!w) {
      this.makeRoom();
      w = { start: this.now(), failures: 0 };
      this.windows.set(key, w);
    }
    w.failures++;
  }

  get tracked(): number {
    return this.windows.size;
  }

  private current(key: string): Window | undefined {
    const w = this.windows.get(key);
    if (w && this.now() - w.start >= this.windowMs) {
      this.windows.delete(key);
      return undefined;
    }
    return w;
  }

  private makeRoom(): void {
    const now = this.now();
    for (const [key, w] of this.windows) {
      if (this.windows.size < this.maxTracked && now - w.start < this.windowMs) return;
      this.windows.delete(key); // expired, or the oldest when still full
    }
  }
}
