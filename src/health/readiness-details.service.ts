import { Injectable } from '@nestjs/common';

/**
 * Sections other modules add to /health/ready that inform without deciding readiness (optional integrations
 * such as message brokers: an outage there delays their own stream only). The endpoint is public: a section says
 * states, never hosts, addresses or error texts.
 */
@Injectable()
export class ReadinessDetails {
  private readonly sections = new Map<string, () => Record<string, unknown>>();

  add(name: string, read: () => Record<string, unknown>): void {
    this.sections.set(name, read);
  }

  all(): [string, () => Record<string, unknown>][] {
    return [...this.sections];
  }
}
