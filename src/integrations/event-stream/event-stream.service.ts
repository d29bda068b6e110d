import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Server } from 'node:http';
import { EventFeedService, FeedEvent, FeedFilter, matchesFilter } from '../event-feed.service';
import { EventStreamHub, HubSubscriber } from './event-stream.hub';

export interface StreamSink {
  /** Send one event; return false when the client is too far behind to keep buffering for. */
  send(event: FeedEvent): boolean;
  /** End the response: the client fell behind, or the instance is shutting down (it resumes with Last-Event-ID). */
  end(): void;
}

export interface StreamHandle {
  close(): void;
}

const REPLAY_BATCH = 500;

/**
 * One consumer's stream: replays the outbox after Last-Event-ID (matching the filter, in id order),
 * then continues with live events, without gap or repeat across the switch.
 */
@Injectable()
export class EventStreamService implements OnModuleDestroy {
  private readonly sinks = new Set<StreamSink>();
  private watch?: NodeJS.Timeout;

  constructor(
    private readonly hub: EventStreamHub,
    private readonly feed: EventFeedService,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  /**
   * Streams never finish on their own, so graceful shutdown (which waits for open requests) would wait
   * for them: end them as soon as the server stops listening, or at the latest when this module stops.
   */
  onModuleDestroy(): void {
    this.endAll();
  }

  private endAll(): void {
    for (const sink of [...this.sinks]) sink.end();
    this.sinks.clear();
  }

  private track(sink: StreamSink): () => void {
    this.sinks.add(sink);
    this.watch ??= setInterval(() => {
      const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
      if (server && !server.listening) this.endAll();
    }, 250);
    this.watch.unref();
    return () => {
      this.sinks.delete(sink);
      if (this.sinks.size === 0 && this.watch) {
        clearInterval(this.watch);
        this.watch = undefined;
      }
    };
  }

  /** The newest event id the outbox holds (0 when it is empty). */
  newestEventId(): Promise<number> {
    return this.feed.maxId();
  }

  async open(filter: FeedFilter, lastEventId: number | null, sink: StreamSink): Promise<StreamHandle> {
    let closed = false;
    let replaying = lastEventId !== null;
    let sent = lastEventId ?? 0;
    const buffered: FeedEvent[] = [];
    const deliver = (e: FeedEvent) => {
      if (closed || e.id <= sent || !matchesFilter(e, filter)) return;
      sent = e.id;
      if (!sink.send(e)) {
        close();
        sink.end();
      }
    };
    const subscriber: HubSubscriber = { push: (e) => (replaying ? buffered.push(e) : deliver(e)) };
    const untrack = this.track(sink);
    const close = () => {
      closed = true;
      untrack();
      this.hub.detach(subscriber);
    };

    try {
      const horizon = await this.hub.attach(subscriber);
      if (lastEventId === null) return { close };
      // Everything up to the horizon comes from the outbox; the hub pushes (and we buffered) the rest.
      let after = lastEventId;
      while (!closed && after < horizon) {
        const batch = await this.feed.read({ after, upTo: horizon, limit: REPLAY_BATCH, filter });
        for (const e of batch) deliver(e);
        if (batch.length < REPLAY_BATCH) break;
        after = batch[batch.length - 1].id;
      }
    } catch (e) {
      close();
      throw e;
    }
    replaying = false;
    for (const e of buffered.splice(0)) deliver(e);
    return { close };
  }
}
