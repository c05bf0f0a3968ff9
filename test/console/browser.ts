import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sparticuz from '@sparticuz/chromium';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';
import { freePort, killLocalServer, type LocalServer, startLocalServer } from '../local-server';

export const DEV_KEY = 'console-test-dev-key-0123456789abcdef';
export const OPERATOR_KEY = 'console-test-operator-key-0123456789abcdef';
export const CONSOLE_DIST = join('console', 'dist');

/** Builds the console once if this checkout has no build yet (npm ci and npm test build it). */
export const ensureConsoleBuilt = () => {
  if (!existsSync(join(CONSOLE_DIST, 'index.html')) || readdirSync(join(CONSOLE_DIST, 'assets')).length === 0) {
    execFileSync('npm', ['run', 'build:console'], { stdio: 'ignore' });
  }
};

export interface Harness {
  base: string;
  server: LocalServer;
  browser: Browser;
  /** Calls the API from outside the browser, as another client would. */
  api: (method: string, path: string, body?: unknown, key?: string) => Promise<Response>;
  close(): Promise<void>;
}

export const startHarness = async (): Promise<Harness> => {
  ensureConsoleBuilt();
  const dataDir = mkdtempSync(join(tmpdir(), 'runnel-console-'));
  const port = await freePort();
  const server = await startLocalServer(port, {
    RUNNEL_DATA_DIR: dataDir,
    RUNNEL_DEV_API_KEY: DEV_KEY,
    RUNNEL_OPERATOR_KEY: OPERATOR_KEY,
    RUNNEL_MAINTENANCE_INTERVAL_MS: '0',
  });
  const browser = await chromium.launch({
    executablePath: await sparticuz.executablePath(),
    args: sparticuz.args,
    headless: true,
  });
  const base = `http://127.0.0.1:${port}`;
  return {
    base,
    server,
    browser,
    api: (method, path, body, key = DEV_KEY) =>
      fetch(base + path, {
        method,
        headers: {
          Authorization: `Bearer ${key}`,
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    close: async () => {
      await browser.close();
      await killLocalServer(server.proc);
      rmSync(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    },
  };
};

/** Presses Tab until the element has focus: the keyboard-only way to reach it. */
export const tabTo = async (page: Page, target: Locator, maxPresses = 40) => {
  await target.waitFor();
  for (let i = 0; i < maxPresses; i++) {
    if (await target.evaluate((el) => el === (globalThis as any).document.activeElement).catch(() => false)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`could not reach ${target} with Tab`);
};
