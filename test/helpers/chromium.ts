import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BrowserContext, chromium } from 'playwright-core';

/**
 * Headless Debian Chromium driven by playwright-core (which downloads no browser). Under CI=true a missing Chromium
 * fails the browser tests; elsewhere they are skipped with a warning.
 */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const haveChromium = fs.existsSync(CHROMIUM);

/** describe() for browser tests: `describeDb` (or describe) when Chromium is there or CI requires it, else skipped. */
export function browserDescribe(describeFn: jest.Describe, name: string): jest.Describe {
  if (haveChromium || process.env.CI === 'true') return describeFn;
  console.warn(`${name}: ${CHROMIUM} not found, skipping (apt-get install -y chromium)`);
  return describe.skip;
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** A fresh browser profile; the flags keep Chromium from reaching out to networks this machine does not have. */
export async function launchChromium(): Promise<Browser> {
  if (!haveChromium) throw new Error(`${CHROMIUM} is missing: CI needs \`apt-get install -y chromium\``);
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rh-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
