import { connect, type Socket } from 'node:net';
import { EventSource } from 'eventsource';
import { createApp, createServices } from '#shared/app/create-app';
import { LONG_POLL_INTERVAL_MS } from '#shared/services/long-poll';
import { startStack } from '../test/harness';
import { listen } from '../test/stream-harness';
import { streamCostLines } from './stream-cost';

/**
 * Server-Sent Event streams, locally (`npm start`'s stack: the app on node, DynamoDB and
 * S3 emulated in-process):
 * - append → event latency: produce one record, time from the produce's answer (the
 *   record is durable) to the event reaching an SSE client, on the same instance (woken
 *   in-process) and on another instance (which finds it by polling the tail, as a stream
 *   Lambda finds a record another Lambda appended);
 * - memory per idle open stream (200 streams);
 * - one client that never reads while records keep coming: what the server holds for it;
 * - latency as idle streams are added (how many one process holds before it doubles).
 * Run: `npx tsx --expose-gc bench/streams.ts` (or `npm run bench`).
 */

const QUOTAS = {
  maxTopics: 100_000,
  maxPartitions: 1_000_000,
  maxStorageBytes: 2 ** 50,
  produceBytesPerSec: 2 ** 40,
  fetchBytesPerSec: 2 ** 40,
};

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
const ms = (n: number) => `${n.toFixed(1)} ms`;
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const gc = () => (globalThis as { gc?: () => void }).gc?.();

const settle = async () => {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
};

/** A raw HTTP/1.1 stream request on a socket: no client-side buffering to count. */
const rawStream = (port: number, path: string, key: string) =>
  new Promise<Socket>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nAuthorization: Bearer ${key}\r\n\r\n`,
      );
    });
    socket.once('data', () => resolve(socket));
    socket.once('error', reject);
  });

export const benchStreams = async ({ samples = 200, idleStreams = 200 } = {}) => {
  let eventsMade = 0;
  const stack = await startStack({
    tenant: { name: 'bench-streams', quotas: QUOTAS },
    // The fault hook, delivering every event, counts the events the server makes.
    deps: {
      // Hundreds of idle streams of one tenant: above the default cap of waiting requests.
      waitersPerTenant: 10_000,
      streams: {
        faults: {
          onEvent: () => {
            eventsMade++;
            return 'deliver';
          },
        },
      },
    },
  });
  const other = createApp(stack.deps, createServices(stack.deps));
  const here = await listen(stack.app.fetch);
  const there = await listen(other.fetch);
  const lines: string[] = [];
  const say = (line: string) => {
    lines.push(line);
    console.log(line);
  };
  try {
    await stack.api.post('/v1/topics', { name: 'live', partitions: 1 });
    await stack.api.post('/v1/topics', { name: 'idle', partitions: 1 });
    await stack.api.post('/v1/topics', { name: 'firehose', partitions: 1 });

    /** Produce `samples` records one by one; resolve each with ack → event time. */
    const latency = async (base: string, count: number) => {
      const es = new EventSource(`${base}/v1/topics/live/partitions/0/records?offset=latest`, {
        fetch: (url, init) =>
          fetch(url, { ...init, headers: { ...init?.headers, Authorization: `Bearer ${stack.apiKey}` } }),
      });
      const arrivals = new Map<number, number>();
      let waiting: { offset: number; resolve: () => void } | undefined;
      es.addEventListener('records', (e) => {
        for (const r of JSON.parse(e.data).records) arrivals.set(r.offset, performance.now());
        if (waiting && arrivals.has(waiting.offset)) waiting.resolve();
      });
      await new Promise<void>((resolve) => es.addEventListener('ping', () => resolve(), { once: true }));
      const afterAck: number[] = [];
      for (let i = 0; i < count; i++) {
        const produced = await stack.api.post('/v1/topics/live/records', { records: [{ value: `r${i}` }] });
        const acked = performance.now();
        const offset = produced.body.offsets[0].offset as number;
        if (!arrivals.has(offset)) await new Promise<void>((resolve) => (waiting = { offset, resolve }));
        afterAck.push((arrivals.get(offset) as number) - acked);
      }
      es.close();
      afterAck.sort((a, b) => a - b);
      return { p50: percentile(afterAck, 0.5), p99: percentile(afterAck, 0.99) };
    };

    const same = await latency(here.base, samples);
    say(
      `append → event, same instance (in-process wake-up): p50 ${ms(same.p50)}, p99 ${ms(same.p99)} (${samples} records)`,
    );
    const cross = await latency(there.base, samples);
    say(
      `append → event, another instance (tail polled every ${LONG_POLL_INTERVAL_MS} ms): p50 ${ms(cross.p50)}, p99 ${ms(cross.p99)}`,
    );

    // Memory of idle streams: raw sockets, so the client side adds next to nothing. Latency
    // is measured again at each step, to find how many one process holds before it doubles.
    await settle();
    const before = process.memoryUsage();
    const sockets: Socket[] = [];
    const steps = [25, 50, 100, idleStreams].filter((n, i, all) => n <= idleStreams && all.indexOf(n) === i);
    let doubledAt: number | undefined;
    for (const step of steps) {
      while (sockets.length < step) {
        sockets.push(await rawStream(here.port, '/v1/topics/idle/partitions/0/records?offset=latest', stack.apiKey));
      }
      if (step === idleStreams) {
        await settle();
        const after = process.memoryUsage();
        say(
          `${idleStreams} idle streams: heap +${mib(after.heapUsed - before.heapUsed)} (${((after.heapUsed - before.heapUsed) / idleStreams / 1024).toFixed(1)} KiB per stream), rss +${mib(after.rss - before.rss)} (${((after.rss - before.rss) / idleStreams / 1024).toFixed(1)} KiB per stream)${(globalThis as { gc?: unknown }).gc ? '' : ' [run with --expose-gc for exact heap figures]'}`,
        );
      }
      const loaded = await latency(here.base, Math.min(samples, 40));
      if (doubledAt === undefined && loaded.p50 >= 2 * same.p50) doubledAt = step;
      say(`append → event with ${step} idle streams open: p50 ${ms(loaded.p50)}, p99 ${ms(loaded.p99)}`);
    }
    say(
      doubledAt === undefined
        ? `p50 latency did not double with up to ${idleStreams} idle streams`
        : `p50 latency doubled by ${doubledAt} idle streams (each polls its partition's tail every ${LONG_POLL_INTERVAL_MS} ms)`,
    );
    for (const s of sockets) s.destroy();

    // One client that never reads, while 32 MiB of records are appended to what it follows.
    const stalled = await rawStream(here.port, '/v1/topics/firehose/partitions/0/records?offset=latest', stack.apiKey);
    stalled.pause();
    await settle();
    const baseline = process.memoryUsage();
    eventsMade = 0;
    const value = 'x'.repeat(64 * 1024);
    const batches = 64;
    let peakHeap = 0;
    for (let i = 0; i < batches; i++) {
      await stack.api.post('/v1/topics/firehose/records', { records: Array.from({ length: 8 }, () => ({ value })) });
      peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
    }
    await settle();
    const end = process.memoryUsage();
    say(
      `a client that never reads, ${mib(batches * 8 * value.length)} appended: the server made ${eventsMade} event(s) for it and stopped; heap +${mib(end.heapUsed - baseline.heapUsed)} at the end (peak +${mib(peakHeap - baseline.heapUsed)}), rss +${mib(end.rss - baseline.rss)}`,
    );
    stalled.destroy();
    for (const line of streamCostLines()) say(line);
  } finally {
    await here.close();
    await there.close();
    await stack.close();
  }
  return lines;
};

if (import.meta.url === `file://${process.argv[1]}`) {
  await benchStreams();
  process.exit(0);
}
