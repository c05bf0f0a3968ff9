import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_CSP } from '#shared/app/console';
import { DEV_KEY, type Harness, OPERATOR_KEY, startHarness, tabTo } from './console/browser';

/**
 * The web console in headless Chromium against `npm start`. Elements are found by their
 * role and accessible name only (the names are the console's contract), and every wait
 * is on an element or event, never a fixed sleep.
 */
let h: Harness;
let context: BrowserContext;
let page: Page;
const problems: string[] = [];

beforeAll(async () => {
  h = await startHarness();
  context = await h.browser.newContext({ colorScheme: 'light', locale: 'en-US' });
  context.setDefaultTimeout(30_000);
  page = await context.newPage();
  // Anything the page reports as an error (a CSP violation, an exception) fails the suite.
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of (401|404|409)/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
}, 120_000);

afterAll(async () => {
  await h?.close();
});

const shown = (locator: ReturnType<Page['getByRole']>) => locator.waitFor({ state: 'visible' });
const storage = () =>
  page.evaluate(() => {
    const web = globalThis as any; // the page's window
    return { session: JSON.stringify(web.sessionStorage), local: JSON.stringify(web.localStorage) };
  });

describe('web console', () => {
  it('shows the problem of a wrong key, and signs in by keyboard alone with the key kept in sessionStorage only', async () => {
    await page.goto(`${h.base}/console`);
    await shown(page.getByRole('button', { name: 'Sign in' }));
    const interactiveMs = await page.evaluate(() => (globalThis as any).performance.now());
    console.log(`console: interactive ${Math.round(interactiveMs)} ms after navigation (local, first load)`);
    const keyField = page.getByLabel('API key', { exact: true }); // a password field has no ARIA role
    await keyField.fill('not-a-real-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.getByRole('alert');
    await shown(alert);
    expect(await alert.innerText()).toMatch(/unauthori[sz]ed/i);

    await keyField.fill('');
    await tabTo(page, keyField);
    await page.keyboard.type(DEV_KEY);
    await page.keyboard.press('Enter');
    await shown(page.getByRole('heading', { name: 'Topics', level: 1 }));
    await shown(page.getByRole('link', { name: 'Consumer groups' }));
    expect(await page.getByRole('link', { name: 'Tenants' }).count()).toBe(0);

    const { session, local } = await storage();
    expect(session).toContain(DEV_KEY);
    expect(local).not.toContain(DEV_KEY);
    expect(page.url()).not.toContain(DEV_KEY);
  });

  it('creates a topic by keyboard alone', async () => {
    await tabTo(page, page.getByRole('button', { name: 'Create topic' }));
    await page.keyboard.press('Enter');
    await tabTo(page, page.getByRole('textbox', { name: 'Name' }));
    await page.keyboard.type('orders');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('2');
    await tabTo(page, page.getByRole('textbox', { name: 'Retention' }));
    await page.keyboard.press('Control+A');
    await page.keyboard.type('3d');
    await tabTo(page, page.getByRole('button', { name: 'Create', exact: true }));
    await page.keyboard.press('Enter');
    await shown(page.getByRole('heading', { name: 'Topic orders' }));
    expect(new URL(page.url()).pathname).toBe('/console/topics/orders/messages');

    const topic = (await (await h.api('GET', '/v1/topics/orders')).json()) as {
      partitions: number;
      retentionMs: number;
    };
    expect(topic.partitions).toBe(2);
    expect(topic.retentionMs).toBe(3 * 86_400_000);

    await page.getByRole('link', { name: 'Topics' }).click();
    const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: 'orders' }) });
    await shown(row);
    expect(await row.innerText()).toContain('3d');
  });

  it('produces a keyed JSON record with a header by keyboard alone, and shows where it went', async () => {
    await page.getByRole('link', { name: 'orders' }).click();
    await tabTo(page, page.getByRole('link', { name: 'Produce' }));
    await page.keyboard.press('Enter');
    await tabTo(page, page.getByRole('textbox', { name: 'Key' }));
    await page.keyboard.type('user-42');
    await tabTo(page, page.getByRole('textbox', { name: 'Value' }));
    await page.keyboard.type('{"id":1,"item":"tea","qty":2}');
    await tabTo(page, page.getByRole('textbox', { name: 'Headers' }));
    await page.keyboard.type('trace: abc-123');
    await tabTo(page, page.getByRole('button', { name: 'Produce' }));
    await page.keyboard.press('Enter');
    const status = page.getByRole('status').filter({ hasText: 'Produced to partition' });
    await shown(status);
    const [, partition, offset] = /partition (\d+) at offset (\d+)/.exec(await status.innerText()) ?? [];
    expect(offset).toBe('0');
    // Kafka's partitioner: the same key always lands on the same partition.
    const again = (await (
      await h.api('POST', '/v1/topics/orders/records', { records: [{ key: 'user-42', value: 'second' }] })
    ).json()) as { offsets: { partition: number }[] };
    expect(String(again.offsets[0]?.partition)).toBe(partition);
  });

  it('shows the record pretty-printed with its key and header, filters, and downloads what is shown as JSON Lines', async () => {
    await page.getByRole('link', { name: 'Messages' }).click();
    const table = page.getByRole('table', { name: 'Messages' });
    const first = table.getByRole('row').filter({ hasText: 'user-42' }).filter({ hasText: 'tea' });
    await shown(first);
    const cells = await first.getByRole('cell').allInnerTexts();
    expect(cells).toContain('{\n  "id": 1,\n  "item": "tea",\n  "qty": 2\n}');
    expect(cells).toContain('trace: abc-123');
    await shown(table.getByRole('row').filter({ hasText: 'second' }));

    await page.getByRole('searchbox', { name: 'Filter' }).fill('ABC-123');
    await shown(page.getByRole('status').filter({ hasText: '1 of 2 messages match the filter' }));
    expect(await table.getByRole('row').filter({ hasText: 'second' }).count()).toBe(0);

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('orders.jsonl');
    const lines = readFileSync(await download.path(), 'utf8')
      .trim()
      .split('\n');
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({
        offset: 0,
        key: 'user-42',
        value: '{"id":1,"item":"tea","qty":2}',
        headers: [{ key: 'trace', value: 'abc-123' }],
      }),
    ]);
  });

  it('opens a deep link at a partition and offset, and shows binary values as base64', async () => {
    const produced = (await (
      await h.api('POST', '/v1/topics/orders/records', {
        encoding: 'base64',
        records: [0, 1, 2].map((i) => ({
          partition: 1,
          key: null,
          value: Buffer.from([0xff, 0xfe, i]).toString('base64'),
        })),
      })
    ).json()) as { offsets: { offset: number }[] };
    const second = produced.offsets[1]?.offset ?? -1;
    await page.goto(`${h.base}/console/topics/orders/messages?partition=1&offset=${second}`);
    const table = page.getByRole('table', { name: 'Messages' });
    await shown(table.getByRole('row').filter({ hasText: '//4C' }));
    expect(await table.getByRole('row').filter({ hasText: '//4B' }).count()).toBe(1);
    expect(await table.getByRole('row').filter({ hasText: '//4A' }).count()).toBe(0);
    expect(await table.getByRole('row').filter({ hasText: 'base64' }).count()).toBe(2);
  });

  it('renders hostile keys, values and headers as text: no markup, no script, no direction tricks', async () => {
    await h.api('POST', '/v1/topics', { name: 'xss', partitions: 1 });
    await h.api('POST', '/v1/topics/xss/records', {
      records: [
        {
          key: '<img src=x onerror="window.__pwned=1">',
          value: '<a href="javascript:window.__pwned=2">click</a><script>window.__pwned=3</script>',
          headers: [{ key: '<b onmouseover=alert(1)>h</b>', value: 'evil\u202Etxt.exe' }],
        },
      ],
    });
    await page.goto(`${h.base}/console/topics/xss/messages`);
    const row = page.getByRole('table', { name: 'Messages' }).getByRole('row').filter({ hasText: '<img src=x' });
    await shown(row);
    const text = await row.innerText();
    expect(text).toContain('<a href="javascript:window.__pwned=2">click</a><script>');
    expect(text).toContain('<b onmouseover=alert(1)>h</b>');
    expect(text).toContain('evil<U+202E>txt.exe');
    expect(text).not.toContain('\u202E');
    expect(await row.locator('img, a, script, b').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
  });

  it('follows a topic live and shows a record produced from outside', async (ctx) => {
    const probe = await fetch(`${h.base}/v1/topics/orders/records?offset=latest`, {
      headers: { Authorization: `Bearer ${DEV_KEY}`, Accept: 'text/event-stream' },
    });
    const streams = probe.headers.get('content-type')?.includes('text/event-stream');
    await probe.body?.cancel();
    if (!streams) ctx.skip(); // the server has no Server-Sent Events yet

    await page.goto(`${h.base}/console/topics/orders/messages`);
    const live = page.getByRole('button', { name: 'Live' });
    await live.click();
    // The status says so once the stream is open, so the record below cannot come before it.
    await shown(page.getByRole('status').filter({ hasText: 'Live: following' }));
    await h.api('POST', '/v1/topics/orders/records', { records: [{ key: 'live-1', value: 'from outside' }] });
    await shown(page.getByRole('table', { name: 'Messages' }).getByRole('row').filter({ hasText: 'from outside' }));
    await live.click();
  });

  it('creates a key and shows its secret once, then revokes it', async () => {
    await page.goto(`${h.base}/console/keys`);
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.getByRole('textbox', { name: 'Name' }).fill('reporting');
    await page.getByRole('textbox', { name: 'Resource' }).fill('topic:orders');
    await page.getByRole('checkbox', { name: 'produce' }).uncheck();
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    const secretBox = page.getByRole('region', { name: 'New API key' });
    await shown(secretBox);
    const apiKey = await secretBox.getByRole('code').innerText();
    expect(apiKey.length).toBeGreaterThan(20);
    expect((await h.api('GET', '/v1/topics/orders', undefined, apiKey)).status).toBe(200);
    await shown(secretBox.getByRole('button', { name: 'Copy' }));
    expect(await storage().then((s) => s.session + s.local)).not.toContain(apiKey);

    await secretBox.getByRole('button', { name: 'Done' }).click();
    await secretBox.waitFor({ state: 'detached' });
    await page.reload();
    await shown(page.getByRole('row').filter({ hasText: 'reporting' }));
    expect(await page.content()).not.toContain(apiKey);

    await page.getByRole('button', { name: 'Revoke reporting' }).click();
    await page.getByRole('button', { name: 'Confirm revoke reporting' }).click();
    await page.getByRole('row').filter({ hasText: 'reporting' }).waitFor({ state: 'detached' });
    expect((await h.api('GET', '/v1/topics/orders', undefined, apiKey)).status).toBe(401);
  });

  it("shows a group's lag per partition, and a reset to latest moves it to zero", async () => {
    await h.api('POST', '/v1/topics', { name: 'payments', partitions: 1 });
    await h.api('POST', '/v1/topics/payments/records', {
      records: Array.from({ length: 5 }, (_, i) => ({ value: `p${i}` })),
    });
    await h.api('POST', '/v1/groups/billing/offsets', { offsets: [{ topic: 'payments', partition: 0, offset: 1 }] });

    await page.goto(`${h.base}/console/topics`);
    await page.getByRole('link', { name: 'Consumer groups' }).click();
    await page.getByRole('link', { name: 'billing' }).click();
    const lagTable = page.getByRole('table', { name: 'Lag per partition' });
    const row = lagTable.getByRole('row').filter({ hasText: 'payments' });
    await shown(row);
    expect(await row.getByRole('cell').allInnerTexts()).toEqual(['0', '1', '5', '4']);
    await shown(page.getByRole('figure', { name: 'Lag per partition over time' }));

    await page.getByRole('combobox', { name: 'Reset to' }).selectOption('latest');
    await page.getByRole('button', { name: 'Reset offsets' }).click();
    await shown(page.getByRole('status').filter({ hasText: 'partition 0 → 5' }));
    expect(await row.getByRole('cell').allInnerTexts()).toEqual(['0', '5', '5', '0']);
    const group = (await (await h.api('GET', '/v1/groups/billing')).json()) as { partitions: { lag: number }[] };
    expect(group.partitions[0]?.lag).toBe(0);
  });

  it('keeps 10,000 rows in a virtual table: only the rows in view are in the page, and End reaches the last', {
    timeout: 180_000,
  }, async () => {
    await h.api('POST', '/v1/topics', { name: 'wide', partitions: 10 });
    const produced = await h.api('POST', '/v1/topics/wide/records', {
      records: Array.from({ length: 10_000 }, (_, i) => ({ partition: i % 10, key: `k${i}`, value: `v-${i}` })),
    });
    expect(produced.status).toBe(200);
    await page.goto(`${h.base}/console/topics/wide/messages`);
    // 10 fetches of 1,000 records: allow a loaded machine time (this waits on the element, it asserts no speed).
    await page.getByRole('status').filter({ hasText: '10000 messages' }).waitFor({ timeout: 90_000 });
    const table = page.getByRole('table', { name: 'Messages' });
    await shown(table.getByRole('row').filter({ hasText: 'v-0' }).first());
    expect(await table.getByRole('row').count()).toBeLessThan(60);
    await tabTo(page, table.getByRole('rowgroup').last());
    await page.keyboard.press('End');
    await table.getByRole('row').filter({ hasText: 'v-9999' }).waitFor({ timeout: 30_000 });
    expect(await table.getByRole('row').count()).toBeLessThan(60);
  });

  it('serves the console with a strict CSP at every deep link, and hashed assets gzipped and cached', async () => {
    const deep = await fetch(`${h.base}/console/topics/orders/messages?partition=1&offset=100`);
    expect(deep.status).toBe(200);
    expect(deep.headers.get('content-type')).toContain('text/html');
    expect(deep.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
    expect(deep.headers.get('x-frame-options')).toBe('DENY');
    const html = await deep.text();
    expect(html).toContain('<div id="app">');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script for the CSP to allow

    // First load: the entry script, what it preloads, and the stylesheets, as a browser fetches them (gzip).
    const scripts = [...html.matchAll(/<(?:script|link rel="modulepreload")[^>]*(?:src|href)="([^"]+\.js)"/g)].map(
      (m) => m[1],
    );
    const styles = [...html.matchAll(/<link rel="stylesheet"[^>]*href="([^"]+\.css)"/g)].map((m) => m[1]);
    expect(scripts.length).toBeGreaterThan(0);
    const gzipBytes = async (path: string | undefined) => {
      const r = await fetch(h.base + path, { headers: { 'Accept-Encoding': 'gzip' } });
      expect(r.status).toBe(200);
      expect(r.headers.get('content-encoding')).toBe('gzip');
      expect(r.headers.get('cache-control')).toContain('immutable');
      expect(r.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
      return Number(r.headers.get('content-length'));
    };
    const js = (await Promise.all(scripts.map(gzipBytes))).reduce((a, b) => a + b, 0);
    const css = (await Promise.all(styles.map(gzipBytes))).reduce((a, b) => a + b, 0);
    console.log(
      `console first load: ${(js / 1024).toFixed(1)} KiB JavaScript + ${(css / 1024).toFixed(1)} KiB CSS (gzip)`,
    );
    expect(js).toBeLessThanOrEqual(150 * 1024);

    for (const path of [
      '/console/assets/nope.js',
      '/console/assets/..%2F..%2Fpackage.json',
      '/console/assets/index.html',
    ]) {
      const r = await fetch(h.base + path);
      expect(r.status, path).toBe(404);
      expect(r.headers.get('content-type'), path).toContain('application/problem+json');
    }
    expect((await fetch(`${h.base}/v1/topics`)).status).toBe(401);
  });

  it('creates a connector, pauses, resumes and deletes it', async () => {
    await page.goto(`${h.base}/console/connectors`);
    await page.getByRole('button', { name: 'Create connector' }).click();
    await page.getByRole('textbox', { name: 'Name' }).fill('orders-gen');
    await page.getByRole('combobox', { name: 'Kind' }).selectOption('datagen');
    await page
      .getByRole('textbox', { name: 'Config' })
      .fill('{"topic":"orders","template":"orders","recordsPerSecond":1,"maxRecords":1000000}');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    const row = page.getByRole('row').filter({ hasText: 'orders-gen' });
    await shown(row.getByRole('cell', { name: 'running', exact: true }));
    await row.getByRole('button', { name: 'Pause orders-gen' }).click();
    await shown(row.getByRole('cell', { name: 'paused', exact: true }));
    await row.getByRole('button', { name: 'Resume orders-gen' }).click();
    await shown(row.getByRole('cell', { name: 'running', exact: true }));
    page.once('dialog', (d) => void d.accept());
    await row.getByRole('button', { name: 'Delete orders-gen' }).click();
    await row.waitFor({ state: 'detached' });
    expect((await h.api('GET', '/v1/connectors/orders-gen')).status).toBe(404);
  });

  it('signs out and forgets the key', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await shown(page.getByRole('button', { name: 'Sign in' }));
    const { session, local } = await storage();
    expect(session).not.toContain(DEV_KEY);
    expect(session).toBe('{}');
    expect(local).toBe('{}');
    await page.goto(`${h.base}/console/topics`);
    await shown(page.getByRole('button', { name: 'Sign in' }));
  });

  it('shows "Tenants" for the operator key', async () => {
    await page.getByLabel('API key', { exact: true }).fill(OPERATOR_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await shown(page.getByRole('heading', { name: 'Tenants', level: 1 }));
    await shown(page.getByRole('row').filter({ hasText: 'dev' }));
    await page.getByRole('button', { name: 'Sign out' }).click();
    await shown(page.getByRole('button', { name: 'Sign in' }));
  });

  it('renders every screen in light and dark mode (RUNNEL_SCREENSHOTS=1 writes docs/console/*.png)', async () => {
    const hasConnectors = (await h.api('GET', '/v1/connectors')).status === 200;
    const screens: [name: string, path: string, heading: RegExp][] = [
      ['sign-in', '/console', /Sign in to Runnel/],
      ['topics', '/console/topics', /^Topics$/],
      ['messages', '/console/topics/orders/messages', /Topic orders/],
      ['produce', '/console/topics/orders/produce', /Topic orders/],
      ['settings', '/console/topics/orders/settings', /Topic orders/],
      ['groups', '/console/groups', /Consumer groups/],
      ['group', '/console/groups/billing', /Consumer group billing/],
      ['keys', '/console/keys', /API keys/],
      ...(hasConnectors ? [['connectors', '/console/connectors', /Connectors/] as [string, string, RegExp]] : []),
      ['tenants', '/console/tenants', /Tenants/],
    ];
    for (const scheme of ['light', 'dark'] as const) {
      const shots = await h.browser.newContext({
        colorScheme: scheme,
        locale: 'en-US',
        viewport: { width: 1280, height: 800 },
      });
      shots.setDefaultTimeout(30_000);
      const tab = await shots.newPage();
      tab.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
      for (const [name, path, heading] of screens) {
        const key = name === 'tenants' ? OPERATOR_KEY : DEV_KEY;
        await tab.goto(h.base + path);
        if (name !== 'sign-in') {
          // Each tab signs in once per key; sessionStorage keeps it across these page loads.
          const signIn = tab.getByRole('button', { name: 'Sign in' });
          const signedAs = await tab.evaluate(() => (globalThis as any).sessionStorage.getItem('runnel.session'));
          if (!signedAs?.includes(key)) {
            if (signedAs) {
              await tab.getByRole('button', { name: 'Sign out' }).click();
              await tab.goto(h.base + path);
            }
            await tab.getByLabel('API key', { exact: true }).fill(key);
            await signIn.click();
          }
        }
        await shown(tab.getByRole('heading', { name: heading, level: 1 }));
        if (name === 'messages') await shown(tab.getByRole('table', { name: 'Messages' }).getByRole('row').nth(1));
        if (name === 'group') await shown(tab.getByRole('figure', { name: 'Lag per partition over time' }));
        expect(await tab.getByRole('alert').count(), `${name} (${scheme}) shows a problem`).toBe(0);
        if (process.env.RUNNEL_SCREENSHOTS === '1') {
          mkdirSync(join('docs', 'console'), { recursive: true });
          await tab.screenshot({ path: join('docs', 'console', `${name}-${scheme}.png`) });
        }
      }
      // Not closed: headless shell runs in one process, where closing a context ends the browser (afterAll closes it).
    }
  });

  it('never lets a key reach the server log, and the page reports no error (CSP violations included)', () => {
    const output = h.server.output();
    const afterBanner = output.slice(output.indexOf('\n', output.indexOf('Try:')));
    expect(afterBanner).not.toContain(DEV_KEY.slice(10));
    expect(afterBanner).not.toContain(OPERATOR_KEY.slice(10));
    expect(problems).toEqual([]);
  });
});
