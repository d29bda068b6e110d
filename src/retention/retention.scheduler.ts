import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { AppConfig } from '../config/app-config.service';
import { RetentionService } from './retention.service';

const JOB = 'retention-purge';

/** Runs the purge every RETENTION_PURGE_INTERVAL_MINUTES when a retention is configured; never two at once. */
@Injectable()
export class RetentionScheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(RetentionScheduler.name);
  private running?: Promise<void>;

  constructor(
    private readonly retention: RetentionService,
    private readonly registry: SchedulerRegistry,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.retention.enabled) return;
    const timer = setInterval(() => void this.runOnce(), this.config.get('RETENTION_PURGE_INTERVAL_MINUTES') * 60_000);
    timer.unref();
    this.registry.addInterval(JOB, timer);
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.registry.doesExist('interval', JOB)) this.registry.deleteInterval(JOB);
    this.retention.requestStop();
    await this.running;
  }

  runOnce(): Promise<void> {
    this.running ??= this.retention
      .purgeExpired()
      .then(() => undefined)
      .catch((e) => this.logger.error(`retention purge failed: ${(e as Error).message}`))
      .finally(() => (this.running = undefined));
    return this.running;
  }
}
