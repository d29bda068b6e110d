import * as amqp from 'amqplib';
import type { FeedEvent } from '../integrations/event-feed.service';
import { BrokerPublisher, PublisherOptions } from './broker-publisher';

export interface AmqpOptions extends PublisherOptions {
  exchange: string;
  connectTimeoutMs: number;
}

/**
 * AMQP 0-9-1 publisher: a durable topic exchange (declared here), routing key = event type, persistent
 * messages with the event id as message_id, on a confirm channel: a batch counts as sent only once the broker
 * confirmed every message of it.
 */
export class AmqpPublisher extends BrokerPublisher {
  readonly name = 'amqp' as const;
  private connection?: amqp.ChannelModel;
  private channel?: amqp.ConfirmChannel;

  constructor(private readonly amqpOptions: AmqpOptions) {
    super(amqpOptions);
  }

  protected async open(generation: number): Promise<void> {
    const connection = await amqp.connect(this.options.url, {
      timeout: this.amqpOptions.connectTimeoutMs,
      clientProperties: { connection_name: 'recognition-hub' },
    });
    // Given up on meanwhile (open timed out, or stopped): do not keep a connection nobody tracks.
    if (generation !== this.generation) {
      await connection.close().catch(() => undefined);
      throw new Error('connection attempt abandoned');
    }
    this.connection = connection;
    let lastError: unknown = null;
    connection.on('error', (e) => (lastError = e));
    connection.on('close', () => this.lost(lastError ?? new Error('connection closed'), generation));
    const channel = await connection.createConfirmChannel();
    channel.on('error', (e) => (lastError = e));
    // A channel closed by the broker (e.g. a refused declaration) leaves the connection open: start over.
    channel.on('close', () => this.lost(lastError ?? new Error('channel closed'), generation));
    await channel.assertExchange(this.amqpOptions.exchange, 'topic', { durable: true });
    this.channel = channel;
  }

  protected async close(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    this.channel = undefined;
    if (!connection) return;
    connection.removeAllListeners('close');
    connection.on('error', () => undefined);
    await connection.close().catch(() => undefined);
  }

  protected async send(events: FeedEvent[]): Promise<void> {
    const channel = this.channel;
    if (!channel) throw new Error('not connected');
    for (const e of events) {
      channel.publish(this.amqpOptions.exchange, e.type, Buffer.from(JSON.stringify(e.envelope)), {
        persistent: true,
        messageId: e.envelope.id,
        type: e.type,
        contentType: 'application/json',
        timestamp: Math.floor(Date.parse(e.envelope.timestamp) / 1000),
        appId: 'recognition-hub',
      });
    }
    await channel.waitForConfirms();
  }
}
