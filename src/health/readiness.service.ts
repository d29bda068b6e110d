import { Injectable } from '@nestjs/common';

/** A readiness check's failure whose message is safe to show on the public /health/ready (no paths, hosts or values). */
export class NotReady extends Error {}

export type ReadinessCheck = () => Promise<Record<string, unknown> | undefined>;

/**
 * Sections feature modules add to /health/ready without the health module knowing them. `register`: a check that
 * decides readiness (e.g. an index still loading) and throws NotReady with a public message, or returns details.
 * `inform`: a section that informs without deciding (optional integrations such as message brokers: an outage
 * there delays their own stream only). The endpoint is public: states only, never hosts, addresses or error texts.
 */
@Injectable()
export class ReadinessChecks {
  private readonly checks = new Map<string, ReadinessCheck>();
  private readonly sections = new Map<string, () => Record<string, unknown>>();

  register(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  inform(name: string, read: () => Record<string, unknown>): void {
    this.sections.set(name, read);
  }

  all(): [string, ReadinessCheck][] {
    return [...this.checks];
  }

  informational(): [string, () => Record<string, unknown>][] {
    return [...this.sections];
  }
}
