import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Server } from 'node:http';
import { AppConfig } from '../config/app-config.service';
import { OutboxRelay } from '../events/outbox-relay.service';

/**
 * First step of shutdown (SIGTERM, or app.close()): readiness turns down, the listener stops accepting,
 * requests in flight run to their answer, then the outbox relay delivers what is due and stops.
 * Nest then closes the database and the process exits 0. Everything is bounded by SHUTDOWN_TIMEOUT_MS.
 * It is an onModuleDestroy hook because Nest runs those before every beforeApplicationShutdown hook (where
 * the relay and the purge stop) and before any resource an in-flight request needs is released.
 */
@Injectable()
export class GracefulShutdown implements OnModuleDestroy {
  private readonly logger = new Logger(GracefulShutdown.name);
  private stopping = false;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly relay: OutboxRelay,
    private readonly config: AppConfig,
  ) {}

  get shuttingDown(): boolean {
    return this.stopping;
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    const deadline = Date.now() + this.config.get('SHUTDOWN_TIMEOUT_MS');
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (server?.listening) {
      this.logger.log('shutting down: no longer accepting connections, finishing requests in flight');
      await this.closeServer(server, deadline);
    }
    // Events committed by the requests just answered are delivered now rather than at the next start.
    if (this.config.get('OUTBOX_RELAY_ENABLED')) await this.withDeadline(this.relay.drain(), deadline, 'outbox drain');
    await this.relay.stop();
  }

  private closeServer(server: Server, deadline: number): Promise<void> {
    return new Promise((resolve) => {
      // Keep-alive sockets that finish their request become idle; close them so close() can complete.
      const idle = setInterval(() => server.closeIdleConnections(), 50);
      const force = setTimeout(
        () => {
          this.logger.warn('shutdown timeout: closing connections still open');
          server.closeAllConnections();
        },
        Math.max(0, deadline - Date.now()),
      );
      server.close(() => {
        clearInterval(idle);
        clearTimeout(force);
        resolve();
      });
    });
  }

  private async withDeadline(work: Promise<void>, deadline: number, what: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(
        () => {
          this.logger.warn(`shutdown timeout: ${what} left unfinished (another instance or the next start resumes it)`);
          resolve();
        },
        Math.max(0, deadline - Date.now()),
      );
    });
    await Promise.race([work, timeout]);
    clearTimeout(timer);
  }
}
