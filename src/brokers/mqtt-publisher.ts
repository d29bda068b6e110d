import { randomBytes } from 'node:crypto';
import { connect, MqttClient } from 'mqtt';
import type { FeedEvent } from '../integrations/event-feed.service';
import { BrokerPublisher, PublisherOptions, withTimeout } from './broker-publisher';

export interface MqttOptions extends PublisherOptions {
  topicPrefix: string;
  connectTimeoutMs: number;
  /** Box event time of the newest stored record per media device (the records module's, so it survives restarts). */
  newestAtCameras: (mediaDeviceIds: string[]) => Promise<Map<string, number>>;
}

/** What `<prefix>/cameras/<media device id>/last` holds: who was seen there last, without images or features. */
export interface CameraLastSeen {
  eventId: string;
  timestamp: string;
  recordId: string;
  boxId: string;
  mediaDeviceId: string;
  deviceExternalId: string;
  identityId: string | null;
  identityExternalId: string;
  identityName: string | null;
  userType: string | null;
  score: number | null;
  occurredAt: number;
}

/**
 * MQTT 3.1.1 publisher: events QoS 1, not retained, on `<prefix>/events/<type>`; retained state topics for
 * dashboards. The will marks `<prefix>/availability` offline when the connection dies; a graceful shutdown
 * publishes offline itself. A fresh client per connection (clean session, no automatic reconnect): the base
 * class reconnects with backoff and the stream re-sends whatever was not acknowledged.
 */
export class MqttPublisher extends BrokerPublisher {
  readonly name = 'mqtt' as const;
  private client?: MqttClient;
  /** Box event time last published per camera by this instance (covers a newer record erased meanwhile). */
  private readonly lastSeenAt = new Map<string, number>();
  private readonly clientId = `recognition-hub-${randomBytes(4).toString('hex')}`;

  constructor(private readonly mqttOptions: MqttOptions) {
    super(mqttOptions);
  }

  private get availabilityTopic(): string {
    return `${this.mqttOptions.topicPrefix}/availability`;
  }

  protected open(generation: number): Promise<void> {
    return new Promise((resolve, reject) => {
      let lastError: unknown = null;
      let up = false;
      const client = connect(this.options.url, {
        clientId: this.clientId,
        protocolVersion: 4,
        clean: true,
        reconnectPeriod: 0,
        connectTimeout: this.mqttOptions.connectTimeoutMs,
        will: { topic: this.availabilityTopic, payload: Buffer.from('offline'), qos: 1, retain: true },
      });
      this.client = client;
      client.on('error', (e) => {
        lastError = e;
        if (!up) reject(e);
      });
      client.on('close', () => {
        if (!up) reject(lastError ?? new Error('connection closed'));
        else this.lost(lastError ?? new Error('connection lost'), generation);
      });
      client.on('connect', () => {
        client.publishAsync(this.availabilityTopic, 'online', { qos: 1, retain: true }).then(() => {
          up = true;
          resolve();
        }, reject);
      });
    });
  }

  protected async close(graceful: boolean): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    client.removeAllListeners('close');
    client.on('error', () => undefined);
    if (!client.connected) {
      client.end(true);
      return;
    }
    if (graceful) {
      await withTimeout(
        client.publishAsync(this.availabilityTopic, 'offline', { qos: 1, retain: true }),
        2000,
        'offline not acknowledged',
      ).catch(() => undefined);
    }
    // A clean DISCONNECT discards the will: handing the stream to another instance must not overwrite its "online".
    await withTimeout(client.endAsync(), 2000, 'disconnect timed out').catch(() => client.end(true));
  }

  protected async send(events: FeedEvent[]): Promise<void> {
    const client = this.client;
    if (!client?.connected) throw new Error('not connected');
    const prefix = this.mqttOptions.topicPrefix;
    const sightings = new Map(events.map((e) => [e, cameraLastSeen(e)]));
    // A late record (box time behind the newest stored one of its camera) leaves the retained state alone. Judged
    // against the stored records rather than only what this process published, so it holds after a restart or a
    // takeover too; a newer record not published yet sets the state when its own event goes out.
    const cameras = [...new Set([...sightings.values()].flatMap((s) => (s ? [s.mediaDeviceId] : [])))];
    // Without the database for a moment, this process's own memory decides (events must not wait on it).
    const newest = await this.mqttOptions.newestAtCameras(cameras).catch(() => new Map<string, number>());
    if (!client.connected) throw new Error('not connected');
    const acks: Promise<unknown>[] = [];
    for (const e of events) {
      acks.push(client.publishAsync(`${prefix}/events/${e.type}`, JSON.stringify(e.envelope), { qos: 1, retain: false }));
      const seen = sightings.get(e);
      if (!seen) continue;
      const floor = Math.max(newest.get(seen.mediaDeviceId) ?? -Infinity, this.lastSeenAt.get(seen.mediaDeviceId) ?? -Infinity);
      if (seen.occurredAt >= floor) {
        this.lastSeenAt.set(seen.mediaDeviceId, seen.occurredAt);
        acks.push(client.publishAsync(`${prefix}/cameras/${seen.mediaDeviceId}/last`, JSON.stringify(seen), { qos: 1, retain: true }));
      }
    }
    await Promise.all(acks);
  }
}

/** The camera state a recognition.recorded event sets; null for other events. */
export function cameraLastSeen(e: FeedEvent): CameraLastSeen | null {
  if (e.type !== 'recognition.recorded') return null;
  const d = e.envelope.data as Partial<CameraLastSeen>;
  if (typeof d.mediaDeviceId !== 'string' || typeof d.occurredAt !== 'number') return null;
  // Field by field: the envelope's image links stay out of a retained topic anyone subscribed may read.
  return {
    eventId: e.envelope.id,
    timestamp: e.envelope.timestamp,
    recordId: d.recordId!,
    boxId: d.boxId!,
    mediaDeviceId: d.mediaDeviceId,
    deviceExternalId: d.deviceExternalId!,
    identityId: d.identityId ?? null,
    identityExternalId: d.identityExternalId!,
    identityName: d.identityName ?? null,
    userType: d.userType ?? null,
    score: d.score ?? null,
    occurredAt: d.occurredAt,
  };
}
