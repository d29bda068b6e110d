import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { Browser, browserDescribe, launchChromium } from './helpers/chromium';
import { boxRecord, createApiKey, Json, push } from './helpers/api-client';
import { startTestApp, TestApp } from './helpers/test-app';
import { describeDb, testDbKind } from './helpers/test-database';

/**
 * Swagger UI at /docs driven in headless Chromium (Debian's `chromium` package; playwright-core only drives it,
 * it downloads no browser). Under CI=true a missing Chromium fails the test; elsewhere the test is skipped with a
 * warning. DOCS_SCREENSHOTS=<dir> saves screenshots of each step for a visual check.
 */
const describeBrowser = browserDescribe(describeDb, 'docs-browser');

describeBrowser('/docs in headless Chromium', () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let baseUrl: string;
  let adminKey: string;
  let record: Json;

  const shot = async (name: string) => {
    if (process.env.DOCS_SCREENSHOTS)
      await page.screenshot({ path: path.join(process.env.DOCS_SCREENSHOTS, `${name}.png`), fullPage: true });
  };

  /**
   * Opens an operation, presses "Try it out", lets `fill` set parameters, executes, and returns its live response.
   * force: Swagger UI's buttons need no scrolling or hover, and skipping the stability checks saves time per step.
   */
  const tryItOut = async (operationId: string, fill: (op: ReturnType<Page['locator']>) => Promise<void> = async () => undefined) => {
    const op = page.locator(`[id$="-${operationId}"].opblock`);
    await op.locator('.opblock-summary-control').first().click({ force: true });
    await op.locator('button.try-out__btn').click({ force: true });
    await fill(op);
    await op.locator('button.execute').click({ force: true });
    const live = op.locator('.live-responses-table');
    await live.locator('tr.response .response-col_status').waitFor({ timeout: 20_000 });
    return live;
  };

  beforeAll(async () => {
    // The walk over every operation creates a webhook subscription from the example body: nothing is sent.
    t = await startTestApp({ env: { WEBHOOK_DISPATCH_ENABLED: 'false' } });
    await t.app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    adminKey = (await createApiKey(t, 'admin')).key;
    await push(t, boxRecord({ identity: 'docs-1', timestamp: Date.now() - 60_000, withImages: true }));
    record = ((await t.http().get('/records').set('x-api-key', adminKey).expect(200)).body.items as Json[])[0];

    browser = await launchChromium();
    const context = browser.context;
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(20_000);
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('authorizes with an API key and runs GET /records with its pre-filled values', async () => {
    const cspViolations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
    await page.goto(`${baseUrl}/docs`);
    await page.locator('button.authorize').first().click();
    const scheme = page.locator('.auth-container').filter({ hasText: 'X-API-Key' });
    await scheme.locator('input').fill(adminKey);
    await scheme.locator('button.authorize').click();
    await expect(scheme.innerText()).resolves.toContain('Authorized');
    await scheme.locator('button.btn-done').click();
    await shot('1-authorized');

    const live = await tryItOut('listRecords');
    await shot('2-list-records');
    await expect(live.locator('tr.response .response-col_status').innerText()).resolves.toContain('200');
    await expect(live.locator('tr.response .response-col_description').innerText()).resolves.toContain(record.id as string);
    expect(cspViolations).toEqual([]);
  });

  it('previews a record image from GET /records/{id}/images/{role}', async () => {
    const role = (record.imageRoles as string[]).includes('face') ? 'face' : (record.imageRoles as string[])[0];
    expect(role).toBeDefined();
    const live = await tryItOut('getRecordImage', async (op) => {
      await op.locator('tr[data-param-name="id"] input').fill(record.id as string);
      await op.locator('tr[data-param-name="role"] select').selectOption(role);
    });
    const img = live.locator('tr.response .response-col_description img');
    await img.waitFor();
    await page.waitForFunction((el) => (el as unknown as { complete: boolean }).complete, await img.elementHandle());
    await shot('3-image-preview');
    await expect(live.locator('tr.response .response-col_status').innerText()).resolves.toContain('200');
    expect(await img.evaluate((el) => (el as unknown as { naturalWidth: number }).naturalWidth)).toBeGreaterThan(0);
  });

  // The page is the same on either database and the walk takes a while, so it runs once, in the SQLite project
  // (test/openapi-conformance.e2e-spec.ts sends the same pre-filled requests on both databases).
  if (testDbKind() !== 'sqlite') return;
  it('executes every other operation from "Try it out" as pre-filled and gets an answer the document declares', async () => {
    const doc = (await t.http().get('/docs-json').expect(200)).body as {
      paths: Record<string, Record<string, { operationId: string; responses: Record<string, unknown> }>>;
    };
    // The event stream never ends (its description says so); the other two ran above.
    const skip = new Set(['listRecords', 'getRecordImage', 'streamEvents']);
    const answers: string[] = [];
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        if (skip.has(op.operationId)) continue;
        const t0 = Date.now();
        const live = await tryItOut(op.operationId);
        if (process.env.DOCS_TIMING) console.log(`${Date.now() - t0} ms ${op.operationId}`);
        const status = (await live.locator('tr.response .response-col_status').innerText()).trim();
        answers.push(`${method.toUpperCase()} ${path} → ${status}${op.responses[status] ? '' : ' (not declared)'}`);
        await page.locator(`[id$="-${op.operationId}"].opblock .opblock-summary-control`).first().click({ force: true }); // collapse again
      }
    }
    expect(answers.filter((a) => !/→ \d{3}$/.test(a) || a.endsWith('→ 400'))).toEqual([]);
    expect(answers.length).toBeGreaterThan(25);
    // About 3 s per operation on a busy 2-core machine, and the document keeps growing (persons, presence).
  }, 300_000);
});
