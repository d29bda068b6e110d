import { Logger } from '@nestjs/common';
import type { FeedEvent } from '../integrations/event-feed.service';
import { describeBrokerUrl, reconnectDelay, scrubError } from './broker-target';

export type BrokerName = 'mqtt' | 'amqp';

const OPEN_TIMEOUT_MS = 15_000;
export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'disconnected';

export interface PublisherOptions {
  url: string;
  reconnectMaxMs: number;
  /** Called once a connection is up (the stream publishes what waited meanwhile). */
  onConnected: () => void;
}

/**
 * One broker connection: opened on start(), reopened after a loss with exponential backoff until stop().
 * Subclasses open and close the client and publish a batch, resolving only once the broker confirmed all of it.
 * Nothing here logs the URL's credentials (see describeBrokerUrl, scrubError).
 */
export abstract class BrokerPublisher {
  abstract readonly name: BrokerName;
  protected readonly logger = new Logger('Brokers');
  private connectionState: ConnectionState = 'idle';
  private failures = 0;
  private retryTimer?: NodeJS.Timeout;
  private running = false;
  /** Bumped on every open or close, so events of a superseded client are ignored. */
  protected generation = 0;

  constructor(protected readonly options: PublisherOptions) {}

  get state(): ConnectionState {
    return this.connectionState;
  }

  get target(): string {
    return describeBrokerUrl(this.options.url);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.attempt();
  }

  /** Close the connection; `graceful` is a shutdown (MQTT announces offline), otherwise another instance takes over. */
  async stop(graceful: boolean): Promise<void> {
    this.running = false;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.generation++;
    if (this.connectionState !== 'idle') await this.close(graceful).catch(() => undefined);
    this.connectionState = 'idle';
  }

  /** Publish in order; resolves once the broker confirmed every message, rejects (and reconnects) otherwise. */
  async publish(events: FeedEvent[], timeoutMs: number): Promise<void> {
    if (this.connectionState !== 'connected') throw new Error('not connected');
    const generation = this.generation;
    try {
      await withTimeout(this.send(events), timeoutMs, `no confirmation within ${timeoutMs} ms`);
    } catch (e) {
      // A stuck or broken connection: start over on a fresh one (what it did not confirm is sent again).
      if (generation === this.generation) this.lost(e);
      throw e;
    }
  }

  protected abstract open(generation: number): Promise<void>;
  protected abstract close(graceful: boolean): Promise<void>;
  protected abstract send(events: FeedEvent[]): Promise<void>;

  /** An open connection of this generation went away. */
  protected lost(e: unknown, generation = this.generation): void {
    if (!this.running || generation !== this.generation) return;
    this.generation++;
    this.connectionState = 'disconnected';
    void this.close(false).catch(() => undefined);
    this.scheduleRetry(e);
  }

  private attempt(): void {
    if (!this.running) return;
    const generation = ++this.generation;
    this.connectionState = 'connecting';
    // Bounded also when the server accepts the connection and then says nothing (the clients' own timeouts cover
    // the TCP connect, not every step of the handshake).
    withTimeout(this.open(generation), OPEN_TIMEOUT_MS, `no handshake within ${OPEN_TIMEOUT_MS} ms`).then(
      () => {
        if (generation !== this.generation) return;
        if (this.failures > 0) this.logger.log(`${this.name} broker ${this.target} connected again`);
        else this.logger.log(`${this.name} broker ${this.target} connected`);
        this.failures = 0;
        this.connectionState = 'connected';
        this.options.onConnected();
      },
      (e: unknown) => {
        if (generation !== this.generation || !this.running) return;
        this.generation++;
        this.connectionState = 'disconnected';
        void this.close(false).catch(() => undefined);
        this.scheduleRetry(e);
      },
    );
  }

  private scheduleRetry(e: unknown): void {
    this.failures++;
    const delay = reconnectDelay(this.failures, this.options.reconnectMaxMs);
    const message = scrubError(this.options.url, e);
    // The first failure and then every tenth: a long outage does not flood the log.
    if (this.failures === 1 || this.failures % 10 === 0) {
      this.logger.warn(`${this.name} broker ${this.target} unavailable (${message}), attempt ${this.failures}; retrying in ${delay} ms`);
    }
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.attempt();
    }, delay);
    this.retryTimer.unref();
  }
}

export function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
