import { afterEach, describe, expect, it, vi } from 'vitest';
import { Runnel } from './client';

/**
 * The producer's batching against a service that answers slowly: linger makes a batch
 * eligible to go, it does not seal it, so what arrives while the partition's previous
 * request is in flight goes out as one request (Kafka's accumulator), not one per linger.
 */
afterEach(() => {
  vi.useRealTimers();
});

const fakeService = () => {
  const produced: number[] = [];
  let releaseFirst!: () => void;
  const firstHeld = new Promise<void>((r) => {
    releaseFirst = r;
  });
  let next = 0;
  const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = new URL(String(input));
    const json = (body: unknown) =>
      new Response(JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json' } });
    if (init?.method === 'GET' && url.pathname === '/v1/topics/t') return json({ name: 't', partitions: 1 });
    const body = JSON.parse(String(init?.body)) as { records: unknown[] };
    produced.push(body.records.length);
    if (produced.length === 1) await firstHeld;
    const offsets = body.records.map(() => ({ partition: 0, offset: next++, timestamp: 0 }));
    return json({ offsets });
  };
  return { fetch, produced, releaseFirst };
};

describe('producer batching', () => {
  it('keeps filling a lingered batch while the partition has a request in flight', async () => {
    vi.useFakeTimers();
    const service = fakeService();
    const runnel = new Runnel({ url: 'http://runnel.test', apiKey: 'rnl_test_key', fetch: service.fetch });
    const producer = runnel.producer({ lingerMs: 5 });
    const acks = [producer.send({ topic: 't', value: 'first' })];
    await vi.advanceTimersByTimeAsync(10); // the first batch lingers, then goes (and is held)
    expect(service.produced).toEqual([1]);
    // 50 records, each after more than lingerMs, while the first request is still in flight.
    for (let i = 0; i < 50; i++) {
      acks.push(producer.send({ topic: 't', value: `r${i}` }));
      await vi.advanceTimersByTimeAsync(10);
    }
    expect(service.produced).toEqual([1]);
    service.releaseFirst();
    await vi.advanceTimersByTimeAsync(10);
    const offsets = (await Promise.all(acks)).map((a) => a.offset);
    expect(offsets).toEqual(Array.from({ length: 51 }, (_, i) => i));
    expect(service.produced).toEqual([1, 50]); // one request for all 50, not 50 requests
    await producer.close();
  });
});
