import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { AppConfig } from '../config/app-config.service';
import { OutboxRelay } from '../events/outbox-relay.service';
import { ImageStore } from '../images/image-store';
import { GracefulShutdown } from './graceful-shutdown.service';

/** Liveness and readiness for orchestrators and load balancers; public, no data in them. */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly images: ImageStore,
    private readonly relay: OutboxRelay,
    private readonly shutdown: GracefulShutdown,
    private readonly config: AppConfig,
  ) {}

  @Get('live')
  @HealthCheck()
  @ApiOperation({ operationId: 'checkLiveness', summary: 'The process is up and serving HTTP.' })
  live() {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({ operationId: 'checkReadiness', summary: 'Database reachable, image store writable, outbox relay keeping up, not shutting down.' })
  ready() {
    const maxLagMs = this.config.get('HEALTH_OUTBOX_MAX_LAG_MS');
    return this.health.check([
      () => {
        const s = this.indicator.check('lifecycle');
        return this.shutdown.shuttingDown ? s.down({ message: 'shutting down' }) : s.up();
      },
      () => this.db.pingCheck('database').withTimeout(3000),
      () =>
        this.indicator
          .check('imageStore')
          .attempt(() => this.images.checkWritable())
          .withTimeout(3000),
      async () => {
        const s = this.indicator.check('outbox');
        const lag = await this.relay.lag();
        const data = { pending: lag.pending, failing: lag.failing, oldestAgeSeconds: Math.round(lag.oldestAgeMs / 1000) };
        return lag.oldestAgeMs > maxLagMs ? s.down(data) : s.up(data);
      },
    ]);
  }
}
