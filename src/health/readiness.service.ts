import { Injectable } from '@nestjs/common';

/** A readiness check's failure whose message is safe to show on the public /health/ready (no paths, hosts or values). */
export class NotReady extends Error {}

export type ReadinessCheck = () => Promise<Record<string, unknown> | undefined>;

/**
 * Readiness checks that feature modules add (e.g. an index still loading), so /health/ready reports them without
 * the health module knowing those modules. A check throws NotReady with a public message, or returns details.
 */
@Injectable()
export class ReadinessChecks {
  private readonly checks = new Map<string, ReadinessCheck>();

  register(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  all(): [string, ReadinessCheck][] {
    return [...this.checks];
  }
}
