import { type FetchLike, partitionForKey, Runnel, RunnelError } from '@runnel/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpStack, startHttpStack } from './http-stack';

/**
 * The producer's promise: every record acknowledged exactly once, at a distinct offset,
 * in send order per key, while a fault injector between the SDK and the server drops
 * answers the server already gave, answers 503 and 429 + Retry-After, and resets
 * connections. Scaled from 100,000 records to keep `npm test` lean; 8 concurrent callers.
 */
const CALLERS = 8;
const PER_CALLER = 1_250;
const PARTITIONS = 4;
const KEYS = 40;

type Fault = 'drop-after-answer' | 'unavailable' | 'throttled' | 'reset';

/** A `fetch` that misbehaves on produce requests on a fixed schedule (every n-th request). */
const faultyFetch = (counts: Record<Fault, number>) => {
  let n = 0;
  const fetchFn: FetchLike = async (input, init) => {
    const isProduce = init.method === 'POST' && /\/records$/.test(input);
    if (!isProduce) return fetch(input, init);
    n++;
    const fault: Fault | undefined =
      n % 7 === 3
        ? 'drop-after-answer'
        : n % 11 === 5
          ? 'unavailable'
          : n % 13 === 8
            ? 'reset'
            : n === 4 || n === 15
              ? 'throttled'
              : undefined;
    if (fault === undefined) return fetch(input, init);
    counts[fault]++;
    if (fault === 'unavailable') {
      return new Response(
        JSON.stringify({ status: 503, code: 'unavailable', title: 'Service unavailable', detail: 'injected' }),
        {
          status: 503,
          headers: { 'content-type': 'application/problem+json' },
        },
      );
    }
    if (fault === 'throttled') {
      return new Response(JSON.stringify({ status: 429, code: 'throttled', title: 'Throttled', detail: 'injected' }), {
        status: 429,
        headers: { 'content-type': 'application/problem+json', 'retry-after': '1' },
      });
    }
    if (fault === 'reset') throw new TypeError('fetch failed: socket hang up (injected)');
    // The server appends and answers; the answer never reaches the client.
    const res = await fetch(input, init);
    await res.arrayBuffer();
    throw new TypeError('fetch failed: connection reset after the request was sent (injected)');
  };
  return fetchFn;
};

describe('SDK producer against the local stack', () => {
  let h: HttpStack;
  beforeAll(async () => {
    h = await startHttpStack();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('murmur2 matches Kafka test vectors and the server', () => {
    const vectors: [string, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [key, hash] of vectors) {
      expect(partitionForKey(key, 2147483647)).toBe((hash & 0x7fffffff) % 2147483647);
    }
  });

  it('8 concurrent callers through faults: every record once, distinct offsets, key order kept', async () => {
    const counts: Record<Fault, number> = { 'drop-after-answer': 0, unavailable: 0, throttled: 0, reset: 0 };
    const runnel = new Runnel({ url: h.url, apiKey: h.stack.apiKey, fetch: faultyFetch(counts) });
    await new Runnel({ url: h.url, apiKey: h.stack.apiKey }).topics.create({ name: 'prop', partitions: PARTITIONS });
    // Small batches and a small buffer: many requests (so many faults) and `send` waiting for room.
    const producer = runnel.producer({ batchMaxBytes: 16 * 1024, lingerMs: 2, maxBufferedBytes: 64 * 1024 });
    let callOrder = 0;
    const sent: { id: string; key: string; order: number; ack: Promise<{ partition: number; offset: number }> }[] = [];
    await Promise.all(
      Array.from({ length: CALLERS }, async (_, caller) => {
        for (let i = 0; i < PER_CALLER; i++) {
          const key = `k${(caller * 7 + i) % KEYS}`;
          const id = `${caller}-${i}`;
          const order = callOrder++;
          // `append` resolves once buffered: the callers feel the backpressure.
          const { acked } = await producer.append({
            topic: 'prop',
            key,
            value: id,
            headers: [{ key: 'c', value: `${caller}` }],
          });
          sent.push({ id, key, order, ack: acked });
        }
      }),
    );
    await producer.close();
    const acks = await Promise.all(sent.map((s) => s.ack));
    expect(producer.buffered).toBe(0);
    // Every fault fired, so the retries were exercised.
    for (const [fault, n] of Object.entries(counts)) expect(n, fault).toBeGreaterThan(0);

    // Distinct offsets; each on its key's partition.
    const seen = new Set<string>();
    sent.forEach((s, i) => {
      const a = acks[i] as { partition: number; offset: number };
      expect(a.partition).toBe(partitionForKey(s.key, PARTITIONS));
      const where = `${a.partition}:${a.offset}`;
      expect(seen.has(where), `offset ${where} acknowledged twice`).toBe(false);
      seen.add(where);
    });
    // The log holds each record exactly once, where its promise said.
    const reader = new Runnel({ url: h.url, apiKey: h.stack.apiKey });
    const byOffset = new Map<string, string>();
    for (let p = 0; p < PARTITIONS; p++) {
      let offset = 0;
      for (;;) {
        const r = await reader.fetch('prop', p, { offset, maxRecords: 10_000 });
        for (const rec of r.records) byOffset.set(`${p}:${rec.offset}`, rec.value as string);
        if (r.nextOffset >= r.highWatermark) break;
        offset = r.nextOffset;
      }
    }
    expect(byOffset.size, 'duplicates or losses in the log').toBe(CALLERS * PER_CALLER);
    sent.forEach((s, i) => {
      const a = acks[i] as { partition: number; offset: number };
      expect(byOffset.get(`${a.partition}:${a.offset}`)).toBe(s.id);
    });
    // Per key, offsets follow the order of the calls.
    const lastByKey = new Map<string, { order: number; offset: number }>();
    for (const [i, s] of [...sent.entries()].sort((x, y) => x[1].order - y[1].order)) {
      const a = acks[i] as { offset: number };
      const last = lastByKey.get(s.key);
      if (last) expect(a.offset, `key ${s.key} reordered`).toBeGreaterThan(last.offset);
      lastByKey.set(s.key, { order: s.order, offset: a.offset });
    }
  });

  it('bad options throw; a bad record rejects; a missing topic rejects its records', async () => {
    const runnel = new Runnel({ url: h.url, apiKey: h.stack.apiKey });
    expect(() => runnel.producer({ lingerMs: -1 })).toThrow(/lingerMs/);
    expect(() => runnel.producer({ batchMaxRecords: 20_000 })).toThrow(/batchMaxRecords/);
    expect(() => new Runnel({ url: 'ftp://x' })).toThrow(/url/);
    const producer = runnel.producer();
    await expect(producer.send({ topic: 'prop', value: 42 as unknown as string })).rejects.toThrow(/value/);
    const error = await producer.send({ topic: 'nope', value: 'x' }).catch((e) => e);
    expect(error).toBeInstanceOf(RunnelError);
    expect(error).toMatchObject({ code: 'topic_not_found', status: 404, retriable: false });
    await producer.close();
    await expect(producer.send({ topic: 'prop', value: 'x' })).rejects.toMatchObject({ code: 'closed' });
  });
});
