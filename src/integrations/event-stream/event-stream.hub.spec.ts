import type { AppConfig } from '../../config/app-config.service';
import type { EventFeedService, FeedEvent } from '../event-feed.service';
import { EventStreamHub } from './event-stream.hub';

/** An outbox whose rows become visible one by one, like commits out of id order on PostgreSQL. */
function fakeFeed(visible: number[]) {
  const event = (id: number): FeedEvent => ({
    id,
    type: 'recognition.recorded',
    boxId: null,
    licenseKey: null,
    userType: null,
    envelope: { id: String(id), type: 'recognition.recorded', timestamp: '', data: {} },
  });
  return {
    maxId: async () => Math.max(0, ...visible),
    idsAfter: async (after: number) =>
      [...visible]
        .sort((a, b) => a - b)
        .filter((id) => id > after)
        .map((id) => ({ id, createdAt: Date.now() })),
    read: async ({ after, limit }: { after: number; limit: number }) =>
      [...visible]
        .sort((a, b) => a - b)
        .filter((id) => id > after)
        .slice(0, limit)
        .map(event),
  } as unknown as EventFeedService;
}

function hubWith(visible: number[], graceMs: number) {
  const settings: Record<string, number> = { EVENT_STREAM_POLL_MS: 60_000, EVENT_STREAM_GAP_GRACE_MS: graceMs };
  const config = { get: (k: string) => settings[k] } as unknown as AppConfig;
  return new EventStreamHub(fakeFeed(visible), config);
}

async function settle(hub: EventStreamHub): Promise<void> {
  hub.kick();
  await (hub as unknown as { chain: Promise<void> }).chain;
}

describe('EventStreamHub', () => {
  it('holds events behind a missing id until it commits, then sends all in id order', async () => {
    const visible = [1, 2];
    const hub = hubWith(visible, 60_000);
    const got: number[] = [];
    expect(await hub.attach({ push: (e) => got.push(e.id) })).toBe(2);
    visible.push(4, 5); // 3 allocated but not committed yet
    await settle(hub);
    expect(got).toEqual([]);
    visible.push(3);
    await settle(hub);
    expect(got).toEqual([3, 4, 5]);
    hub.onApplicationShutdown();
  });

  it('starts before a recent missing id, so a resuming client cannot skip it', async () => {
    const visible = [1, 2, 4]; // 3 is still committing when the first client connects
    const hub = hubWith(visible, 60_000);
    const got: number[] = [];
    expect(await hub.attach({ push: (e) => got.push(e.id) })).toBe(2);
    visible.push(3);
    await settle(hub);
    expect(got).toEqual([3, 4]);
    hub.onApplicationShutdown();
  });

  it('skips an id that never appears once the grace period has passed', async () => {
    const visible = [1];
    const hub = hubWith(visible, 0);
    const got: number[] = [];
    await hub.attach({ push: (e) => got.push(e.id) });
    visible.push(3); // 2 was rolled back
    await settle(hub);
    expect(got).toEqual([3]);
    hub.onApplicationShutdown();
  });
});
