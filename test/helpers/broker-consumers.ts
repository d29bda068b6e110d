import * as amqp from 'amqplib';
import type { INestApplication } from '@nestjs/common';
import { connect, MqttClient } from 'mqtt';
import { OutboxRelay } from '../../src/events/outbox-relay.service';
import { EventFeedService } from '../../src/integrations/event-feed.service';
import type { Json } from './api-client';
import { eventually } from './eventually';

export const MQTT_BROKER = { host: '127.0.0.1', port: 1883 };
export const AMQP_BROKER = { host: '127.0.0.1', port: 5672 };

export interface MqttMessage {
  topic: string;
  body: string;
  retain: boolean;
  qos: number;
}

/** A subscriber straight on the shared Mosquitto (not through the test's proxy), recording everything under `filter`. */
export async function mqttConsumer(filter: string): Promise<{ messages: MqttMessage[]; client: MqttClient; close(): Promise<void> }> {
  const client = connect(`mqtt://${MQTT_BROKER.host}:${MQTT_BROKER.port}`, { clean: true, reconnectPeriod: 200 });
  const messages: MqttMessage[] = [];
  client.on('message', (topic, payload, packet) =>
    messages.push({ topic, body: payload.toString('utf8'), retain: packet.retain, qos: packet.qos }),
  );
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  await client.subscribeAsync(filter, { qos: 1 });
  return { messages, client, close: () => client.endAsync(true) };
}

export interface AmqpMessage {
  routingKey: string;
  body: string;
  properties: amqp.MessageProperties;
  exchange: string;
}

/** An exclusive queue on the shared RabbitMQ bound to `exchange` with "#", recording every message in arrival order. */
export async function amqpConsumer(exchange: string): Promise<{ messages: AmqpMessage[]; close(): Promise<void> }> {
  const connection = await amqp.connect(`amqp://guest:guest@${AMQP_BROKER.host}:${AMQP_BROKER.port}`);
  const channel = await connection.createChannel();
  // The hub declares the exchange too; declaring it here (same arguments) lets the queue bind before the hub starts.
  await channel.assertExchange(exchange, 'topic', { durable: true });
  const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
  await channel.bindQueue(queue, exchange, '#');
  const messages: AmqpMessage[] = [];
  await channel.consume(
    queue,
    (m) => {
      if (!m) return;
      messages.push({
        routingKey: m.fields.routingKey,
        exchange: m.fields.exchange,
        body: m.content.toString('utf8'),
        properties: m.properties,
      });
    },
    { noAck: true },
  );
  return {
    messages,
    close: async () => {
      await channel.deleteExchange(exchange).catch(() => undefined);
      await connection.close().catch(() => undefined);
    },
  };
}

/**
 * Every event the outbox holds, as consumers get it, once the relay has handled them all: listeners (alert rules,
 * persons) write events of their own while they handle ingest's, so the outbox is only complete when none is pending.
 */
export async function settledOutbox(app: INestApplication): Promise<Json[]> {
  const relay = app.get(OutboxRelay);
  await eventually(async () => (await relay.lag()).pending === 0, 'every outbox event relayed');
  return (await app.get(EventFeedService).read({ after: 0, limit: 10_000 })).map((e) => e.envelope as unknown as Json);
}

/** The first arrival of each event, in arrival order (delivery is at least once: a batch may come twice). */
export function firstArrivals(envelopes: Json[]): Json[] {
  const seen = new Map<unknown, Json>();
  for (const e of envelopes) if (!seen.has(e.id)) seen.set(e.id, e);
  return [...seen.values()];
}
