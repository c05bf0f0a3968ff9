import sparticuz from '@sparticuz/chromium';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './harness';
import { freePort } from './local-server';
import {
  exactlyOnceViolations,
  listen,
  produceAll,
  quietStreamFaults,
  type Received,
  randomCuts,
} from './stream-harness';

/*
 * Chromium's own EventSource, in a real headless browser, on a page of another origin
 * (CORS), with a browser token in the URL: it follows a 3-partition topic while a producer
 * writes and the server cuts connections at seeded random points. The browser reconnects
 * by itself with Last-Event-ID; what the page received must be every record, each once,
 * in order per partition.
 */

const RECORDS = 5_000;
const cuts = randomCuts(41, 0.15);
let stack: Stack;
let restoreConsole: () => void;
let server: Awaited<ReturnType<typeof listen>>;
let browser: Browser;
let streamRequests = 0;
let pageOrigin: string;

beforeAll(async () => {
  restoreConsole = quietStreamFaults();
  const port = await freePort();
  // The page is served from `localhost`, the API called on `127.0.0.1`: two origins.
  pageOrigin = `http://localhost:${port}`;
  stack = await startStack({
    corsOrigins: [pageOrigin],
    deps: { streams: { retryMs: 5, pingIntervalMs: 2_000, faults: cuts.faults } },
  });
  server = await listen((req) => {
    const url = new URL(req.url);
    if (url.pathname === '/page') {
      return new Response('<!doctype html><title>feed</title>', { headers: { 'Content-Type': 'text/html' } });
    }
    if (req.method === 'GET' && url.pathname.endsWith('/records')) streamRequests++;
    return stack.app.fetch(req);
  }, port);
  browser = await chromium.launch({
    executablePath: await sparticuz.executablePath(),
    args: sparticuz.args,
  });
}, 60_000);
afterAll(async () => {
  restoreConsole?.();
  await browser?.close();
  await server?.close();
  await stack?.close();
});

describe('Chromium EventSource', () => {
  it(`follows a topic through ${RECORDS} records and cut connections, exactly once`, async () => {
    expect((await stack.api.post('/v1/topics', { name: 'feed', partitions: 3 })).status).toBe(201);
    const token = (
      await stack.api.post('/v1/tokens', { permissions: [{ resource: 'topic:feed', actions: ['consume'] }] })
    ).body.token as string;

    const received: Received[] = [];
    let lastId = '';
    let target: string | undefined;
    let finished: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      finished = resolve;
    });
    const page = await browser.newPage();
    await page.exposeFunction('onStreamEvent', (type: string, data: string, id: string) => {
      if (type === 'records') {
        for (const r of JSON.parse(data).records)
          received.push({ partition: r.partition, offset: r.offset, value: r.value });
      }
      lastId = id;
      if (target !== undefined && lastId === target) finished();
    });
    await page.goto(`${pageOrigin}/page`);
    const url = `http://127.0.0.1:${server.port}/v1/topics/feed/records?offset=earliest&maxRecords=40&access_token=${token}`;
    await page.evaluate((streamUrl) => {
      const report = (globalThis as unknown as { onStreamEvent: (t: string, d: string, i: string) => void })
        .onStreamEvent;
      const source = new EventSource(streamUrl);
      for (const type of ['records', 'ping']) {
        source.addEventListener(type, (e) => report(type, (e as MessageEvent).data, (e as MessageEvent).lastEventId));
      }
      (globalThis as unknown as { feed: EventSource }).feed = source;
    }, url);

    const { ends, values } = await produceAll(stack.api, 'feed', 3, RECORDS, 9);
    target = ends.map((end, p) => `${p}:${end}`).join(',');
    if (lastId === target) finished();
    await done;
    await page.evaluate(() => (globalThis as unknown as { feed: EventSource }).feed.close());
    console.log(
      `chromium: ${received.length} records over ${streamRequests} stream requests; cuts ${JSON.stringify(cuts.counts)}`,
    );
    expect(exactlyOnceViolations(received, values, 3)).toEqual([]);
    expect(received).toHaveLength(RECORDS);
    expect(cuts.total()).toBeGreaterThanOrEqual(10);
    expect(streamRequests).toBeGreaterThan(cuts.total() / 2);
  }, 300_000);
});
