import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { type FetchLike, PRODUCER_DEFAULTS, Runnel } from '@runnel/client';
import { build } from 'esbuild';
import { perGb } from './cost-model';
import { findNatsServer, measureNatsThroughput, NATS_INSTALL_HINT, startNatsServer } from './nats';
import { GB } from './prices';
import { measureSizeProfiles } from './profiles';
import { type BenchStack, startBenchStack } from './stack';

/**
 * `npm run bench:sdk` (and the last section of `npm run bench`): what the client SDK
 * makes of the cost model and the local stack. Figures, never assertions.
 *
 * - requests per GB and $/GB ingested with the producer's defaults, 1 KiB records, from
 *   1 and 8 senders, each either awaiting every `send` or pipelining (`append`);
 * - local produce throughput through the SDK at concurrency 1 and 8 (beside NATS
 *   JetStream publish when nats-server is installed);
 * - consumer end-to-end latency, `send` → `eachMessage`, p50/p99;
 * - the SDK's bundle size, min+gzip, core and kafkajs facade.
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const KiB = 1024;
const value = 'x'.repeat(KiB);

const counting = (counter: { produce: number }): FetchLike => {
  return (input, init) => {
    if (init.method === 'POST' && input.endsWith('/records')) counter.produce++;
    return fetch(input, init);
  };
};

interface CostScenario {
  name: string;
  senders: number;
  pipelined: boolean;
  records: number;
}

const runScenario = async (stack: BenchStack, s: CostScenario) => {
  const counter = { produce: 0 };
  const runnel = new Runnel({ url: stack.baseUrl, apiKey: stack.apiKey, fetch: counting(counter) });
  const topic = `sdk-cost-${s.senders}-${s.pipelined ? 'p' : 'a'}-${Date.now()}`;
  await runnel.topics.create({ name: topic, partitions: 8 });
  const producer = runnel.producer();
  const perSender = Math.ceil(s.records / s.senders);
  const start = performance.now();
  await Promise.all(
    Array.from({ length: s.senders }, async () => {
      const acks: Promise<unknown>[] = [];
      for (let i = 0; i < perSender; i++) {
        if (s.pipelined) acks.push((await producer.append({ topic, value })).acked);
        else await producer.send({ topic, value });
      }
      await Promise.all(acks);
    }),
  );
  await producer.close();
  const seconds = (performance.now() - start) / 1000;
  const records = perSender * s.senders;
  const requests = counter.produce;
  return {
    ...s,
    records,
    requests,
    seconds,
    recordsPerRequest: records / requests,
    requestsPerGb: requests / ((records * KiB) / GB),
    meanRequestBytes: (records * KiB) / requests,
  };
};

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

const bundleSize = async (entry: string) => {
  const out = await build({
    entryPoints: [join(root, 'client', 'dist', entry)],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'neutral',
    write: false,
  });
  const code = out.outputFiles[0]?.contents ?? new Uint8Array();
  return { min: code.byteLength, gzip: gzipSync(code, { level: 9 }).byteLength };
};

export const benchSdk = async (log: (line: string) => void = console.log) => {
  const stack = await startBenchStack();
  try {
    // 1. Requests and $ per GB with the producer's defaults.
    log(
      `producer defaults: lingerMs ${PRODUCER_DEFAULTS.lingerMs}, batchMaxBytes ${PRODUCER_DEFAULTS.batchMaxBytes}, maxBufferedBytes ${PRODUCER_DEFAULTS.maxBufferedBytes}`,
    );
    const scenarios: CostScenario[] = [
      { name: '1 sender, awaiting each send', senders: 1, pipelined: false, records: 300 },
      { name: '8 senders, awaiting each send', senders: 8, pipelined: false, records: 2_400 },
      { name: '1 sender, pipelined (append)', senders: 1, pipelined: true, records: 8_192 },
      { name: '8 senders, pipelined (append)', senders: 8, pipelined: true, records: 8_192 },
    ];
    const results = [];
    for (const s of scenarios) results.push(await runScenario(stack, s));
    // Price a request of each observed mean size on the same stack, as docs/performance.md does.
    const sizes = [...new Set(results.map((r) => Math.max(KiB, Math.round(r.meanRequestBytes / KiB) * KiB)))];
    const profiles = await measureSizeProfiles(stack, sizes, { cpuBudgetBytes: 4 * 1024 * KiB });
    const priceAt = (bytes: number) => {
      const size = Math.max(KiB, Math.round(bytes / KiB) * KiB);
      const p = profiles.find((x) => x.size === size) ?? profiles[0];
      return p ? perGb(p.produce) : Number.NaN;
    };
    const unbatched = priceAt(KiB);
    log('| senders | records/request | requests/GB | $/GB ingested (HTTP API) | vs unbatched 1 KiB requests |');
    log('| --- | --- | --- | --- | --- |');
    for (const r of results) {
      const price = priceAt(r.meanRequestBytes);
      log(
        `| ${r.name} | ${r.recordsPerRequest.toFixed(1)} | ${Math.round(r.requestsPerGb).toLocaleString('en-US')} | $${price.toPrecision(3)} | ${(unbatched / price).toFixed(1)}× cheaper |`,
      );
    }
    log(
      `unbatched (1 KiB per request): ${(GB / KiB).toLocaleString('en-US')} requests/GB, $${unbatched.toPrecision(3)}/GB`,
    );

    // 2. Produce throughput through the SDK over loopback HTTP.
    const throughput = [];
    for (const concurrency of [1, 8]) {
      const r = await runScenario(stack, {
        name: `concurrency ${concurrency}`,
        senders: concurrency,
        pipelined: true,
        records: 16_384,
      });
      throughput.push(r);
      log(
        `SDK produce, concurrency ${concurrency}: ${Math.round(r.records / r.seconds).toLocaleString('en-US')} records/s, ${((r.records * KiB) / r.seconds / 1e6).toFixed(1)} MB/s (1 KiB records, ${r.requests} requests)`,
      );
    }
    const nats = findNatsServer();
    if (nats) {
      const server = await startNatsServer(nats);
      try {
        for (const concurrency of [1, 8]) {
          const n = await measureNatsThroughput(server, { concurrency, requestsPerWorker: 16_384 / concurrency / 100 });
          const sdk = throughput.find((t) => t.senders === concurrency);
          const ratio = sdk ? sdk.records / sdk.seconds / n.publishRecordsPerSec : Number.NaN;
          log(
            `NATS JetStream publish, concurrency ${concurrency}: ${Math.round(n.publishRecordsPerSec).toLocaleString('en-US')} records/s; SDK/JetStream ${ratio.toFixed(2)}×`,
          );
        }
      } finally {
        await server.stop();
      }
    } else log(`NATS JetStream: skipped (no nats-server; ${NATS_INSTALL_HINT})`);

    // 3. Consumer end to end: send → eachMessage.
    const runnel = new Runnel({ url: stack.baseUrl, apiKey: stack.apiKey });
    const topic = `sdk-latency-${Date.now()}`;
    await runnel.topics.create({ name: topic, partitions: 1 });
    const consumer = runnel.consumer({ groupId: `lat-${Date.now()}`, topics: [topic], autoOffsetReset: 'latest' });
    const samples: number[] = [];
    const SAMPLES = 200;
    let next!: () => void;
    let arrived = new Promise<void>((r) => {
      next = r;
    });
    const running = consumer.run({
      eachMessage: ({ message }) => {
        samples.push(performance.now() - Number(message.value));
        next();
      },
    });
    await consumer.connect();
    // The partition is assigned and its first fetch is parked once the rebalance event fired.
    await new Promise<void>((r) => {
      if (consumer.assignment().length > 0) r();
      else consumer.on('rebalance', () => r());
    });
    const producer = runnel.producer({ lingerMs: 0 });
    for (let i = 0; i < SAMPLES; i++) {
      await producer.send({ topic, value: String(performance.now()) });
      await arrived;
      arrived = new Promise<void>((r) => {
        next = r;
      });
    }
    await producer.close();
    await consumer.close();
    await running;
    const sorted = [...samples].sort((a, b) => a - b);
    log(
      `consumer end to end (send → eachMessage, local, one record at a time): p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms over ${samples.length}`,
    );

    // 4. Bundle sizes.
    const core = await bundleSize('index.js');
    const facade = await bundleSize('kafkajs.js');
    log(
      `bundle, core (@runnel/client): ${(core.min / KiB).toFixed(1)} KiB min, ${(core.gzip / KiB).toFixed(1)} KiB min+gzip`,
    );
    log(
      `bundle, kafkajs facade (@runnel/client/kafkajs, with the core it uses): ${(facade.min / KiB).toFixed(1)} KiB min, ${(facade.gzip / KiB).toFixed(1)} KiB min+gzip`,
    );
  } finally {
    await stack.close();
  }
};

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await benchSdk();
}
