import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { DataSource } from 'typeorm';
import { Public } from '../auth/auth.decorators';
import { AppConfig } from '../config/app-config.service';
import { isDatabaseUnavailable } from '../database/database-errors';
import { OutboxRelay } from '../events/outbox-relay.service';
import { ImageStore } from '../images/image-store';
import { GracefulShutdown } from './graceful-shutdown.service';
import { NotReady, ReadinessChecks } from './readiness.service';

/** Liveness and readiness for orchestrators and load balancers; public, no data in them. */
@Public()
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly images: ImageStore,
    private readonly relay: OutboxRelay,
    private readonly shutdown: GracefulShutdown,
    private readonly config: AppConfig,
    private readonly extraChecks: ReadinessChecks,
  ) {}

  @Get('live')
  @HealthCheck()
  @ApiOperation({ operationId: 'checkLiveness', summary: 'The process is up and serving HTTP.' })
  live() {
    return this.health.check([]);
  }

  /**
   * 503 names every failing check. Each runs with HEALTH_CHECK_TIMEOUT_MS, so a database that went silent
   * answers "timeout" instead of hanging the probe, and a failure never escapes as a 500.
   */
  @Get('ready')
  @HealthCheck()
  @ApiOperation({
    operationId: 'checkReadiness',
    summary: 'Database reachable, image store writable, outbox relay keeping up, not shutting down.',
  })
  ready() {
    const maxLagMs = this.config.get('HEALTH_OUTBOX_MAX_LAG_MS');
    return this.health.check([
      () => {
        const s = this.indicator.check('lifecycle');
        return this.shutdown.shuttingDown ? s.down({ message: 'shutting down' }) : s.up();
      },
      () => this.attempt('database', () => this.dataSource.query('SELECT 1')),
      () => this.attempt('imageStore', () => this.images.checkWritable()),
      () =>
        this.attempt('outbox', async () => {
          const lag = await this.relay.lag();
          const oldestAgeSeconds = Math.round(lag.oldestAgeMs / 1000);
          if (lag.oldestAgeMs > maxLagMs) {
            throw new ReadinessFailure(
              `${lag.pending} events pending, oldest ${oldestAgeSeconds} s old (limit ${Math.round(maxLagMs / 1000)} s)`,
            );
          }
          return { pending: lag.pending, failing: lag.failing, oldestAgeSeconds };
        }),
      ...this.extraChecks.all().map(
        ([name, check]) =>
          () =>
            this.attempt(name, check),
      ),
      // Informational sections (message brokers): always up, their state is in the details.
      ...this.extraChecks.informational().map(
        ([name, read]) =>
          () =>
            this.indicator.check(name).up(read()),
      ),
    ]);
  }

  /** One named check, bounded in time; its failure is reported by kind (no paths, hosts or values: this is public). */
  private attempt(name: string, check: () => Promise<unknown>) {
    return this.indicator
      .check(name)
      .attempt(async () => {
        try {
          const data = await check();
          return data && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : undefined;
        } catch (e) {
          throw e instanceof ReadinessFailure ? e : new ReadinessFailure(e instanceof NotReady ? e.message : publicReason(e));
        }
      })
      .withTimeout(this.config.get('HEALTH_CHECK_TIMEOUT_MS'));
  }
}

class ReadinessFailure extends Error {}

function publicReason(e: unknown): string {
  const err = e as { code?: unknown; driverError?: { code?: unknown } } | null;
  const code = err?.driverError?.code ?? err?.code;
  const kind = isDatabaseUnavailable(e) ? 'unavailable' : 'failed';
  return typeof code === 'string' && /^[\w-]{1,32}$/.test(code) ? `${kind} (${code})` : kind;
}
