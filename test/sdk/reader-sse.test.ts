import { type FetchLike, Runnel } from '@runnel/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exactlyOnceViolations, produceAll, quietStreamFaults, type Received, randomCuts } from '../stream-harness';
import { type HttpStack, startHttpStack } from './http-stack';

/*
 * The SDK's Reader over Server-Sent Events (a client with a `streamUrl`): one stream per
 * partition instead of a long poll per batch, reopened exactly where the last whole event
 * left off when the server cuts it (seeded random cuts, no sleeps).
 */

const RECORDS = 1_500;
const cuts = randomCuts(5, 0.15);
let h: HttpStack;
let restoreConsole: () => void;
const requests = { stream: 0, json: 0 };

beforeAll(async () => {
  restoreConsole = quietStreamFaults();
  h = await startHttpStack({ deps: { streams: { faults: cuts.faults } } });
});
afterAll(async () => {
  restoreConsole?.();
  await h?.close();
});

const counting: FetchLike = (input, init) => {
  const accept = new Headers(init.headers).get('accept') ?? '';
  if (input.includes('/records') && init.method === 'GET') {
    if (accept.includes('text/event-stream')) requests.stream++;
    else requests.json++;
  }
  return fetch(input, init);
};

describe('SDK reader over Server-Sent Events', () => {
  it(`reads ${RECORDS} records of 3 partitions exactly once through cut streams, without long polls`, async () => {
    const runnel = new Runnel({ url: h.url, streamUrl: h.url, apiKey: h.stack.apiKey, fetch: counting });
    await runnel.topics.create({ name: 'sse-log', partitions: 3 });
    const reader = runnel.reader({ topic: 'sse-log', from: 'earliest', maxRecords: 20 });
    const received: Received[] = [];
    const { values } = await produceAll(h.stack.api, 'sse-log', 3, RECORDS, 3);
    for await (const batch of reader) {
      for (const r of batch.records)
        received.push({ partition: r.partition, offset: r.offset, value: r.value as string });
      if (received.length >= RECORDS) break;
    }
    console.log(
      `sdk reader (sse): ${received.length} records, ${requests.stream} streams; cuts ${JSON.stringify(cuts.counts)}`,
    );
    expect(exactlyOnceViolations(received, values, 3)).toEqual([]);
    expect(cuts.total()).toBeGreaterThanOrEqual(5);
    expect(requests.stream).toBeGreaterThan(3);
    expect(requests.json).toBe(0);
  }, 180_000);

  it('starts at latest from the position the first ping gives, and long-polls without a streamUrl', async () => {
    cuts.stop();
    // The server fixes `latest` when it opens the stream, before it answers: produce once
    // the stream's response has arrived, so the record is provably after the start.
    let opened!: () => void;
    const streamOpen = new Promise<void>((r) => {
      opened = r;
    });
    const signalling: FetchLike = async (input, init) => {
      const res = await fetch(input, init);
      if (new Headers(init.headers).get('accept')?.includes('text/event-stream')) opened();
      return res;
    };
    const runnel = new Runnel({ url: h.url, streamUrl: h.url, apiKey: h.stack.apiKey, fetch: signalling });
    const reader = runnel.reader({ topic: 'sse-log', partitions: 1, from: 'latest' });
    const iterator = reader[Symbol.asyncIterator]();
    const first = iterator.next();
    await streamOpen;
    await runnel.produce('sse-log', [{ partition: 1, value: 'after-latest' }]);
    const batch = (await first).value;
    expect(batch.records.map((r: { value: unknown }) => r.value)).toContain('after-latest');
    reader.close();
    const polling = new Runnel({ url: h.url, apiKey: h.stack.apiKey, fetch: counting });
    const before = requests.stream;
    const one = polling.reader({ topic: 'sse-log', partitions: 0, from: 'earliest', waitMs: 100 });
    for await (const b of one) if (b.records.length > 0) break;
    expect(requests.stream).toBe(before);
  });
});
