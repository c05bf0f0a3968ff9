import { fileURLToPath } from 'node:url';
import { LocalSinkObjectStore } from '#shared/adapters/s3/sink-object-store';
import { LOCAL_DESTINATIONS } from '#shared/domain/connectors/destination';
import { ConnectorWorker, connectorWorkerDeps } from '#shared/services/connectors/worker';
import { startReceiver } from '../test/connector-fixtures';
import { startStack } from '../test/harness';
import { AWS_PRICES, GB } from './prices';

/**
 * Connectors: the http-sink's append → delivered latency and throughput on the local
 * stack (real clock, a receiver on 127.0.0.1), the storage calls one worker pass and one
 * delivered batch make, and from those the modelled AWS cost per connector-hour and per
 * GB delivered. Run: `npm run bench` (or `npx tsx bench/connectors.ts`).
 */

/** The AWS worker: 512 MB, one pass per second, running all the time (docs/connectors.md). */
export const WORKER_MODEL = { memoryGb: 0.5, passesPerHour: 3600, runsPerHour: 60 } as const;

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;

const priceOf = (calls: Record<string, number>) => {
  let dollars = 0;
  for (const [op, n] of Object.entries(calls)) {
    if (op.startsWith('DynamoDB.')) {
      const write = /Put|Update|Delete/.test(op);
      dollars += n * (write ? AWS_PRICES.dynamodb.writeRequestUnit : AWS_PRICES.dynamodb.readRequestUnit);
    } else if (op === 'S3.PutObject') dollars += n * AWS_PRICES.s3.put;
    else if (op === 'S3.GetObject') dollars += n * AWS_PRICES.s3.get;
  }
  return dollars;
};

const total = (calls: Record<string, number>) => Object.values(calls).reduce((a, b) => a + b, 0);

export const benchConnectors = async (options: { latencySamples?: number; throughputRecords?: number } = {}) => {
  const samples = options.latencySamples ?? 200;
  const throughputRecords = options.throughputRecords ?? 20_000;
  const stack = await startStack({
    tenant: { name: 'bench', quotas: { produceBytesPerSec: 2 ** 40, fetchBytesPerSec: 2 ** 40 } },
  });
  const { api } = stack;
  const lines: string[] = [];
  const say = (line: string) => {
    lines.push(line);
    console.log(line);
  };
  const arrivals = new Map<string, number>();
  const receiver = await startReceiver((_n, req) => {
    const now = performance.now();
    for (const r of req.records) if (r.value && !arrivals.has(r.value)) arrivals.set(r.value, now);
    return { status: 204 };
  }, Date.now);
  const worker = new ConnectorWorker(
    connectorWorkerDeps(stack.deps, stack.services, new LocalSinkObjectStore(stack.emulators.s3, [])),
    { destinations: LOCAL_DESTINATIONS, resolve: async () => ['127.0.0.1'] },
  );
  let running = true;
  const loop = (async () => {
    while (running) await worker.runOnce();
  })();
  try {
    // 1. Latency: one record at a time, the worker passing continuously (as the AWS worker does, once a second).
    await api.post('/v1/topics', { name: 'lat', partitions: 2 });
    await api.post('/v1/connectors', {
      name: 'lat',
      kind: 'http-sink',
      config: { topics: ['lat'], url: receiver.url, batchMaxWaitMs: 0 },
    });
    const latencies: number[] = [];
    for (let i = 0; i < samples; i++) {
      const value = `lat-${i}`;
      const res = await api.post('/v1/topics/lat/records', { records: [{ key: `k${i % 7}`, value }] });
      const acked = performance.now();
      if (res.status !== 200) throw new Error(`produce failed: ${res.status}`);
      while (!arrivals.has(value)) await new Promise((r) => setImmediate(r));
      latencies.push((arrivals.get(value) as number) - acked);
    }
    latencies.sort((a, b) => a - b);
    const p50 = percentile(latencies, 0.5);
    const p99 = percentile(latencies, 0.99);
    say(
      `http-sink append → delivered, local (${samples} records, worker passing continuously): p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms`,
    );
    await api.delete('/v1/connectors/lat');

    // 2. Throughput: a backlog drained with 1,000-record batches.
    await api.post('/v1/topics', { name: 'thr', partitions: 2 });
    const value = 'x'.repeat(100);
    for (let sent = 0; sent < throughputRecords; sent += 5000) {
      const records = Array.from({ length: 5000 }, (_, i) => ({
        key: `k${(sent + i) % 100}`,
        value: `${sent + i}-${value}`,
      }));
      await api.post('/v1/topics/thr/records', { records });
    }
    const before = arrivals.size;
    const started = performance.now();
    await api.post('/v1/connectors', {
      name: 'thr',
      kind: 'http-sink',
      config: { topics: ['thr'], url: receiver.url, batchMaxRecords: 1000, batchMaxWaitMs: 0 },
    });
    while (arrivals.size - before < throughputRecords) await new Promise((r) => setTimeout(r, 5));
    const seconds = (performance.now() - started) / 1000;
    const perSecond = throughputRecords / seconds;
    say(
      `http-sink throughput, local: ${throughputRecords} records of ~110 B in ${seconds.toFixed(2)} s = ${perSecond.toFixed(0)} records/s (batches of 1,000)`,
    );
    await api.delete('/v1/connectors/thr');
    running = false;
    await loop;

    // 3. Storage calls: an idle pass over one http-sink on a 2-partition topic, and one delivered batch.
    await api.post('/v1/connectors', {
      name: 'idle',
      kind: 'http-sink',
      config: { topics: ['lat'], url: receiver.url, batchMaxRecords: 1000, batchMaxWaitMs: 0 },
    });
    // Deliver the topic's backlog first: the measured pass finds nothing new.
    await worker.runOnce();
    await worker.runOnce();
    stack.calls.reset();
    await worker.runOnce();
    const idle = stack.calls.snapshot();
    const batchValue = 'y'.repeat(1000);
    await api.post('/v1/topics/lat/records', {
      records: Array.from({ length: 100 }, (_, i) => ({ key: `k${i}`, value: `${i}-${batchValue}` })),
    });
    stack.calls.reset();
    await worker.runOnce();
    const batch = stack.calls.snapshot();
    say(`storage calls, one idle pass of one http-sink (2 partitions): ${total(idle)} ${JSON.stringify(idle)}`);
    say(`storage calls, one pass delivering 100 records of 1 KB: ${total(batch)} ${JSON.stringify(batch)}`);

    // 4. The AWS model.
    const workerHour =
      WORKER_MODEL.memoryGb * 3600 * AWS_PRICES.lambda.gbSecondArm64 +
      WORKER_MODEL.runsPerHour * AWS_PRICES.lambda.request;
    const idleHour = priceOf(idle) * WORKER_MODEL.passesPerHour;
    // A GB as 1 KB records in batches of 100 (one pass each): 10,486 passes like the measured one.
    const batchesPerGb = GB / (100 * 1024);
    const storagePerGb = priceOf(batch) * batchesPerGb;
    // Lambda time per GB at the measured local rate (110 B records): an upper bound for 1 KB records, whose
    // cost per byte is lower.
    const lambdaPerGb = (GB / (perSecond * 110)) * WORKER_MODEL.memoryGb * AWS_PRICES.lambda.gbSecondArm64;
    say(
      `modelled AWS: worker function $${workerHour.toFixed(4)} per hour for the whole deployment (512 MB, always running)`,
    );
    say(`modelled AWS: $${idleHour.toFixed(4)} per connector-hour in storage calls (1 pass/s, 2 partitions)`);
    say(`modelled AWS: $${storagePerGb.toFixed(3)} per GB delivered in storage calls (1 KB records, 100 per batch)`);
    say(`modelled AWS: ≤ $${lambdaPerGb.toFixed(3)} per GB delivered in worker time (at the measured local rate)`);
    return { p50, p99, perSecond, idle, batch, workerHour, idleHour, storagePerGb, lambdaPerGb, lines };
  } finally {
    running = false;
    await loop;
    await receiver.close();
    await stack.close();
  }
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await benchConnectors();
}
