import { Counter, Registry } from 'prom-client';
import type { EventFeedService, FeedEvent } from '../integrations/event-feed.service';
import type { BrokerPublisher } from './broker-publisher';
import { BrokerStream } from './broker-stream';
import type { BrokerStreamsStore } from './broker-streams.store';

const event = (id: number, createdAt = Date.now()): FeedEvent => ({
  id,
  type: 'recognition.recorded',
  boxId: null,
  licenseKey: null,
  userType: null,
  envelope: { id: String(id), type: 'recognition.recorded', timestamp: new Date(createdAt).toISOString(), data: {} },
});

function setup(rows: FeedEvent[], opts: { leaseHeldElsewhere?: boolean; publishFails?: boolean } = {}) {
  let cursor = 0;
  const published: number[][] = [];
  const store = {
    acquire: jest.fn(async () => (opts.leaseHeldElsewhere ? null : cursor)),
    advance: jest.fn(async (_n: string, _o: string, last: number) => {
      cursor = last;
      return true;
    }),
    release: jest.fn(async () => undefined),
  } as unknown as BrokerStreamsStore;
  const feed = {
    read: jest.fn(async ({ after, limit }: { after: number; limit: number }) => rows.filter((r) => r.id > after).slice(0, limit)),
  } as unknown as EventFeedService;
  const publisher = {
    state: 'connected',
    start: jest.fn(),
    stop: jest.fn(async () => undefined),
    publish: jest.fn(async (events: FeedEvent[]) => {
      if (opts.publishFails) throw new Error('no confirmation');
      published.push(events.map((e) => e.id));
    }),
  } as unknown as BrokerPublisher;
  const registry = new Registry();
  const counters = {
    published: new Counter({ name: 'p', help: 'p', labelNames: ['broker'], registers: [registry] }),
    failed: new Counter({ name: 'f', help: 'f', labelNames: ['broker'], registers: [registry] }),
  };
  const stream = new BrokerStream(
    'amqp',
    publisher,
    store,
    feed,
    { instanceId: 'me', pollIntervalMs: 60_000, leaseMs: 30_000, publishTimeoutMs: 1000, batchSize: 2, gapGraceMs: 5000 },
    counters,
  );
  const pass = async () => {
    stream.kick();
    await (stream as unknown as { chain: Promise<void> }).chain;
  };
  return { stream, store, publisher, published, pass, cursor: () => cursor, counters };
}

describe('BrokerStream', () => {
  it('publishes in id order, batch by batch, moving the cursor after each confirmed batch', async () => {
    const s = setup([event(1), event(2), event(3)]);
    await s.pass();
    expect(s.published).toEqual([[1, 2], [3]]);
    expect(s.cursor()).toBe(3);
    expect(s.stream.state).toBe('connected');
    expect((await s.counters.published.get()).values[0].value).toBe(3);
  });

  it('waits at a missing id while the row after it is recent, and passes a gap that will not fill', async () => {
    const s = setup([event(1), event(3)]);
    await s.pass();
    expect(s.published).toEqual([[1]]);
    expect(s.cursor()).toBe(1);

    const old = setup([event(1, Date.now() - 60_000), event(3, Date.now() - 60_000)]);
    await old.pass();
    expect(old.published.flat()).toEqual([1, 3]);
  });

  it('keeps the cursor when the broker did not confirm', async () => {
    const s = setup([event(1)], { publishFails: true });
    await s.pass();
    expect(s.cursor()).toBe(0);
    expect(s.store.advance).not.toHaveBeenCalled();
    expect((await s.counters.failed.get()).values[0].value).toBe(1);
  });

  it('stands by without connecting while another instance holds the lease', async () => {
    const s = setup([event(1)], { leaseHeldElsewhere: true });
    await s.pass();
    expect(s.stream.state).toBe('standby');
    expect(s.publisher.start).not.toHaveBeenCalled();
    expect(s.published).toEqual([]);
  });
});
