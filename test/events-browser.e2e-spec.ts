import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { boxRecord, createApiKey, push } from './helpers/api-client';
import { Browser, browserDescribe, launchChromium } from './helpers/chromium';
import { eventually } from './helpers/eventually';
import { startTestApp, TestApp } from './helpers/test-app';
import { describeDb } from './helpers/test-database';

interface Received {
  type: string;
  id: string;
  data: { type: string; data: { licenseKey?: string; userType?: string } };
}

/**
 * A browser's own EventSource (headless Chromium), which cannot send an API key header, streams events with a
 * short-lived token from POST /events/stream-tokens.
 */
browserDescribe(describeDb, 'events-browser')('event stream in a browser EventSource', () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let baseUrl: string;
  let reader: string;

  beforeAll(async () => {
    t = await startTestApp({ env: { EVENT_STREAM_POLL_MS: '50', WEBHOOK_DISPATCH_ENABLED: 'false' } });
    await t.app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    reader = (await createApiKey(t, 'reader')).key;
    browser = await launchChromium();
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    // A page of the hub's own origin, as a dashboard served next to it would be.
    await page.goto(`${baseUrl}/health/live`);
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  const token = async (body: object) =>
    (await t.http().post('/events/stream-tokens').set('x-api-key', reader).send(body).expect(201)).body as {
      token: string;
      streamUrl: string;
    };

  it('receives the events of its token, filtered as the token says, with the key never in the URL', async () => {
    const { streamUrl, token: value } = await token({ type: ['recognition.recorded', 'alert.vip-seen'], user_type: ['vip'] });
    expect(streamUrl).not.toContain(reader);
    await page.evaluate((url) => {
      const w = globalThis as unknown as { received: unknown[]; source: EventSource };
      w.received = [];
      w.source = new EventSource(url);
      for (const type of ['recognition.recorded', 'alert.vip-seen', 'alert.blacklist-seen']) {
        w.source.addEventListener(type, (e) =>
          w.received.push({ type, id: (e as MessageEvent).lastEventId, data: JSON.parse((e as MessageEvent).data) }),
        );
      }
    }, streamUrl);
    await page.waitForFunction(() => (globalThis as unknown as { source: EventSource }).source.readyState === 1);

    await push(t, boxRecord({ box: 'BOX-BROWSER', userType: 'employee', identity: 'b-1', timestamp: Date.now() - 3000 }));
    await push(t, boxRecord({ box: 'BOX-BROWSER', userType: 'vip', identity: 'b-2', timestamp: Date.now() - 2000 }));
    const received = await eventually(async () => {
      const got = await page.evaluate(() => (globalThis as unknown as { received: Received[] }).received);
      return got.length >= 2 && got;
    }, 'two events in the browser');
    expect(received.map((e) => e.type)).toEqual(['recognition.recorded', 'alert.vip-seen']);
    for (const e of received) {
      expect(e.data.type).toBe(e.type);
      expect(e.data.data).toMatchObject({ licenseKey: 'BOX-BROWSER', userType: 'vip' });
      expect(Number(e.id)).toBeGreaterThan(0);
    }
    expect(value).toMatch(/^rhst_/);
    await page.evaluate(() => (globalThis as unknown as { source: EventSource }).source.close());
  });

  it('gives up (closed, no retries) on a token the hub does not know', async () => {
    const state = await page.evaluate(
      () =>
        new Promise<number>((resolve) => {
          const source = new EventSource('/events/stream?token=rhst_unknown');
          source.onerror = () => setTimeout(() => resolve(source.readyState), 200);
        }),
    );
    expect(state).toBe(2); // EventSource.CLOSED: a 401 is final for the browser
  });
});
