import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, createServices } from '#shared/app/create-app';
import { expectProblem, type Stack, startStack } from './harness';
import {
  exactlyOnceViolations,
  listen,
  produceAll,
  quietStreamFaults,
  type Received,
  randomCuts,
} from './stream-harness';

/*
 * Server-Sent Events with a real SSE client (the `eventsource` package over real HTTP):
 * the server cuts connections at seeded random points (a test hook, no sleeps), and the
 * client reconnects with Last-Event-ID to two app instances in turn (any instance resumes
 * any stream). What it received must be every record, each once, in order per partition.
 */

const RECORDS = 5_000;
const cuts = randomCuts(14, 0.08);
let stack: Stack;
let restoreConsole: () => void;
let servers: Awaited<ReturnType<typeof listen>>[];
let token: string;

beforeAll(async () => {
  restoreConsole = quietStreamFaults();
  stack = await startStack({ deps: { streams: { retryMs: 5, pingIntervalMs: 2_000, faults: cuts.faults } } });
  const other = createApp(stack.deps, createServices(stack.deps));
  servers = [await listen(stack.app.fetch), await listen(other.fetch)];
  expect((await stack.api.post('/v1/topics', { name: 'feed', partitions: 3 })).status).toBe(201);
  const minted = await stack.api.post('/v1/tokens', {
    permissions: [{ resource: 'topic:feed', actions: ['consume'] }],
    ttlSeconds: 3600,
  });
  expect(minted.status).toBe(201);
  token = minted.body.token;
});
afterAll(async () => {
  restoreConsole?.();
  for (const s of servers ?? []) await s.close();
  await stack?.close();
});

/** Follows `url` until the last event id reaches `target()` (once known); reconnects alternate servers. */
const follow = (path: string) => {
  const received: Received[] = [];
  let connections = 0;
  let lastId = '';
  let target: string | undefined;
  let finished: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    finished = resolve;
  });
  const es = new EventSource(`${servers[0]?.base}${path}`, {
    fetch: (url, init) => {
      const server = servers[connections++ % servers.length] as { port: number };
      const u = new URL(url);
      u.port = String(server.port);
      return fetch(u, init);
    },
  });
  const check = () => {
    if (target !== undefined && lastId === target) finished();
  };
  es.addEventListener('records', (e) => {
    const data = JSON.parse(e.data);
    for (const r of data.records) received.push({ partition: r.partition, offset: r.offset, value: r.value });
    lastId = e.lastEventId;
    check();
  });
  es.addEventListener('ping', (e) => {
    lastId = e.lastEventId;
    check();
  });
  return {
    received,
    connections: () => connections,
    until: (id: string) => {
      target = id;
      check();
      return done.finally(() => es.close());
    },
  };
};

describe('topic stream with the eventsource client', () => {
  it(`delivers ${RECORDS} records exactly once across cut connections and two instances`, async () => {
    const client = follow(`/v1/topics/feed/records?offset=earliest&maxRecords=40&access_token=${token}`);
    const { ends, values } = await produceAll(stack.api, 'feed', 3, RECORDS, 7);
    await client.until(ends.map((end, p) => `${p}:${end}`).join(','));
    console.log(
      `eventsource: ${client.received.length} records over ${client.connections()} connections; cuts ${JSON.stringify(cuts.counts)}`,
    );
    expect(exactlyOnceViolations(client.received, values, 3)).toEqual([]);
    expect(client.received).toHaveLength(RECORDS);
    expect(cuts.total()).toBeGreaterThanOrEqual(10);
    expect(client.connections()).toBeGreaterThan(cuts.total() / 2);
    // A long run on a busy machine; nothing in it waits on time.
  }, 300_000);
});

describe('stream semantics', () => {
  beforeAll(() => cuts.stop());
  const open = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${servers[0]?.base}${path}`, {
      headers: { Accept: 'text/event-stream', Authorization: `Bearer ${stack.apiKey}`, ...headers },
    });

  it('answers problems found before the stream starts as ordinary problem responses', async () => {
    const beyond = await stack.api.request('GET', '/v1/topics/feed/partitions/0/records?offset=999999', undefined, {
      Accept: 'text/event-stream',
    });
    expectProblem(beyond, 416, 'offset_out_of_range');
    const badId = await stack.api.request('GET', '/v1/topics/feed/records', undefined, {
      Accept: 'text/event-stream',
      'Last-Event-ID': '0:1,7:0',
    });
    expectProblem(badId, 400, 'invalid_request');
    const json = await stack.api.request('GET', '/v1/topics/feed/records', undefined, { Accept: 'application/json' });
    expectProblem(json, 406, 'not_acceptable');
  });

  it('starts a partition stream at Last-Event-ID over offset, with records events whose id is the next offset', async () => {
    const res = await open('/v1/topics/feed/partitions/1/records?offset=0&maxRecords=2', { 'Last-Event-ID': '3' });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = (res.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (!text.includes('\n\n')) text += (await reader.read()).value;
    await reader.cancel();
    const event = text.split('\n\n')[0] as string;
    expect(event).toMatch(/^retry: \d+\nevent: records\nid: 5\ndata: /);
    const data = JSON.parse(event.slice(event.indexOf('data: ') + 6));
    expect(data.records.map((r: { offset: number }) => r.offset)).toEqual([3, 4]);
    expect(data.nextOffset).toBe(5);
  });

  it('opens a latest stream with a ping that carries its position, so a cut before any record loses nothing', async () => {
    const res = await open('/v1/topics/feed/records');
    const reader = (res.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (!text.includes('\n\n')) text += (await reader.read()).value;
    await reader.cancel();
    const { ends } = { ends: (await stack.api.get('/v1/topics/feed')).body.partitionStates };
    const id = ends.map((s: { partition: number; highWatermark: number }) => `${s.partition}:${s.highWatermark}`);
    expect(text).toContain(`event: ping\nid: ${id.join(',')}\n`);
    expect(text).toContain('"highWatermarks":[{"partition":0,');
  });
});
