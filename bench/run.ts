import os from 'node:os';
import { INLINE_BATCH_MAX_BYTES, KiB, MiB } from '#shared/constants';
import { LONG_POLL_INTERVAL_MS } from '#shared/services/long-poll';
import { measureTenantAdmissions, type TenantAdmissions, warmUsageShards } from './admissions';
import {
  type CallProfile,
  type HotPartitionResult,
  measureFetchCalls,
  measureHotPartition,
  measureProduceCalls,
} from './calls';
import {
  alternativesPerGb,
  breakEvenSize,
  type CostBreakdown,
  inlineCrossover,
  lifecycleCost,
  perGb,
  priceRequest,
  type RequestProfile,
  storagePerGb,
} from './cost-model';
import { type HandlerCpu, measureHandlerCpu } from './cpu';
import { type FrontDoor, type LatencyModel, modelLatency } from './latency-model';
import { type LogLengthResult, measureFetchVersusLogLength } from './log-length';
import { findNatsServer, measureNatsThroughput, NATS_INSTALL_HINT, type NatsThroughput, startNatsServer } from './nats';
import { AWS_PRICES, KINESIS_ON_DEMAND } from './prices';
import {
  type InlineComparison,
  measureInlineComparison,
  measureSizeProfiles,
  RECORD_BYTES,
  type SizeProfile,
} from './profiles';
import { startBenchStack } from './stack';
import { measureThroughput, type ThroughputResult } from './throughput';

export interface BenchConfig {
  throughput: { concurrency: number; requestsPerWorker: number; recordsPerRequest?: number }[];
  callRequests: number;
  hotPartition: { writers: number; appendsPerWriter: number }[];
  /** Rounds of USAGE_SHARDS produce requests for the tenant-admission ceiling. */
  admissionRounds: number;
  cpuRequests: number;
  logLengths: { records: number; recordsPerEntry: number }[];
  logFetches: number;
  sweepSizes: number[];
  costSizes: number[];
  inlineSizes: number[];
  latencySamples: number;
  cpuBudgetBytes: number;
  nats: boolean;
  log?: (line: string) => void;
  /** The service's clock. @default Date.now (the smoke test stops it, so no quota window opens mid-run) */
  clock?: () => number;
}

export const FULL_CONFIG: BenchConfig = {
  throughput: [
    { concurrency: 1, requestsPerWorker: 100 },
    { concurrency: 8, requestsPerWorker: 25 },
  ],
  callRequests: 5,
  hotPartition: [
    { writers: 1, appendsPerWriter: 40 },
    { writers: 4, appendsPerWriter: 20 },
    { writers: 16, appendsPerWriter: 10 },
    { writers: 64, appendsPerWriter: 5 },
  ],
  admissionRounds: 4,
  cpuRequests: 300,
  logLengths: [
    { records: 10, recordsPerEntry: 1 },
    { records: 10_000, recordsPerEntry: 1000 },
    { records: 1_000_000, recordsPerEntry: 1000 },
  ],
  logFetches: 30,
  sweepSizes: [1, 4, 16, 64, 100, 256, 512, 1024, 2048, 5120].map((k) => k * KiB),
  costSizes: [1 * KiB, 16 * KiB, 256 * KiB, 1 * MiB, 5 * MiB],
  inlineSizes: [1, 2, 4, 6, 8, 10, 12, 16, 24, 32].map((k) => k * KiB),
  latencySamples: 20_000,
  cpuBudgetBytes: 16 * MiB,
  nats: true,
};

export interface CostRow {
  size: number;
  /** Through the default front door (the API function's Function URL). */
  ingestPerGb: number;
  /** Through API Gateway HTTP API (`frontDoor=httpApi`). */
  ingestPerGbHttpApi: number;
  consumePerGb: number;
  storagePerGb: number;
  produce: CostBreakdown;
  fetch: CostBreakdown;
  produceProfile: RequestProfile;
  fetchProfile: RequestProfile;
}

export interface InlineRow {
  size: number;
  inline: number;
  object: number;
  inlineWriteUnits: number;
  inlineFetchReadUnits: number;
  objectFetchReadUnits: number;
}

export interface BenchResults {
  startedAt: string;
  durationSeconds: number;
  machine: { cpus: number; model: string; loadAverage: number[]; node: string };
  throughput: ThroughputResult[];
  produceCalls: CallProfile[];
  fetchCalls: CallProfile[];
  hotPartition: HotPartitionResult[];
  admissions: TenantAdmissions;
  cpu: HandlerCpu;
  logLength: LogLengthResult[];
  profiles: SizeProfile[];
  cost: {
    rows: CostRow[];
    sweep: { size: number; ingest: number; ingestHttpApi: number; consume: number }[];
    breakEven: {
      kinesisIngest: number | undefined;
      kinesisIngestHttpApi: number | undefined;
      kinesisConsume: number | undefined;
      mskIngest: number | undefined;
    };
    alternatives: ReturnType<typeof alternativesPerGb>;
  };
  inline: {
    comparisons: InlineComparison[];
    /** Crossover size (bytes) by scenario: where S3 becomes cheaper than inline. */
    scenarios: { consumers: number; retentionDays: number; crossover: number | undefined; rows: InlineRow[] }[];
    current: number;
  };
  latency: { small: LatencyModel; batch: LatencyModel; smallApiGateway: LatencyModel; pollIntervalMs: number };
  nats: { skipped: string } | { serverVersion: string; runs: NatsThroughput[] };
}

/** Extra read units an inline batch costs each consumer at the tail: its re-check reads the (large) last item. */
const tailRecheckUnits = (writeUnits: number) => Math.max(0, Math.ceil(writeUnits / 4) - 1);

const inlineRows = (comparisons: InlineComparison[], consumers: number, retentionDays: number): InlineRow[] =>
  comparisons.map((c) => {
    const inline =
      lifecycleCost(c.inline.produce, c.inline.fetch, 'dynamodb', consumers, retentionDays).total +
      consumers * tailRecheckUnits(c.inline.produce.calls.writeUnits) * AWS_PRICES.dynamodb.readRequestUnit;
    const object = lifecycleCost(c.object.produce, c.object.fetch, 's3', consumers, retentionDays).total;
    return {
      size: c.size,
      inline,
      object,
      inlineWriteUnits: c.inline.produce.calls.writeUnits,
      inlineFetchReadUnits: c.inline.fetch.calls.readUnits,
      objectFetchReadUnits: c.object.fetch.calls.readUnits,
    };
  });

export const runBench = async (config: BenchConfig): Promise<BenchResults> => {
  const log = config.log ?? (() => {});
  const started = Date.now();
  const stack = await startBenchStack(config.clock);
  try {
    // Start every usage shard's window once (a shard's first write of a second costs a
    // second conditional write): with a standing clock, every count below is then steady state.
    await warmUsageShards(stack);

    log('throughput (HTTP, @hono/node-server on 127.0.0.1)…');
    const throughput: ThroughputResult[] = [];
    for (const t of config.throughput) throughput.push(await measureThroughput(stack, t));

    log('AWS calls per produce and fetch…');
    const n = config.callRequests;
    const produceCalls = [
      await measureProduceCalls(stack, {
        label: 'small, 1 partition',
        partitions: 1,
        records: 10,
        recordBytes: 100,
        requests: n,
      }),
      await measureProduceCalls(stack, {
        label: 'small, 10 partitions',
        partitions: 10,
        records: 10,
        recordBytes: 100,
        requests: n,
      }),
      await measureProduceCalls(stack, {
        label: 'large, 1 partition',
        partitions: 1,
        records: 100,
        recordBytes: 1024,
        requests: n,
      }),
      await measureProduceCalls(stack, {
        label: 'large, 10 partitions',
        partitions: 10,
        records: 100,
        recordBytes: 1024,
        requests: n,
      }),
    ];
    const fetchCalls = [
      await measureFetchCalls(stack, {
        label: 'inline batches',
        batches: 5,
        records: 10,
        recordBytes: 100,
        requests: n,
      }),
      await measureFetchCalls(stack, {
        label: 'S3 segments',
        batches: 5,
        records: 100,
        recordBytes: 1024,
        requests: n,
      }),
    ];

    log('hot partition…');
    const hotPartition: HotPartitionResult[] = [];
    for (const via of ['api', 'append'] as const) {
      for (const h of config.hotPartition) hotPartition.push(await measureHotPartition(stack, { ...h, via }));
    }

    log('tenant admissions…');
    const admissions = await measureTenantAdmissions(stack, config.admissionRounds);

    log('handler CPU (in-memory ports)…');
    const cpu = await measureHandlerCpu({
      recordsPerRequest: 100,
      recordBytes: RECORD_BYTES,
      requests: config.cpuRequests,
    });

    log('fetch cost versus log length…');
    const logLength: LogLengthResult[] = [];
    for (const l of config.logLengths) {
      logLength.push(
        await measureFetchVersusLogLength(stack, {
          ...l,
          recordBytes: 100,
          maxRecords: 100,
          fetches: config.logFetches,
        }),
      );
    }

    log('request-size sweep and inline comparison…');
    const sizes = [...new Set([...config.sweepSizes, ...config.costSizes])].sort((a, b) => a - b);
    const profiles = await measureSizeProfiles(stack, sizes, { cpuBudgetBytes: config.cpuBudgetBytes });
    const comparisons = await measureInlineComparison(stack, config.inlineSizes);

    const sweep = profiles.map((p) => ({
      size: p.size,
      ingest: perGb(p.produce),
      ingestHttpApi: perGb(p.produce, undefined, 'api-gateway'),
      consume: perGb(p.fetch),
    }));
    const rows: CostRow[] = profiles
      .filter((p) => config.costSizes.includes(p.size))
      .map((p) => ({
        size: p.size,
        ingestPerGb: perGb(p.produce),
        ingestPerGbHttpApi: perGb(p.produce, undefined, 'api-gateway'),
        consumePerGb: perGb(p.fetch),
        storagePerGb: storagePerGb(p.size > INLINE_BATCH_MAX_BYTES ? 's3' : 'dynamodb'),
        produce: priceRequest(p.produce),
        fetch: priceRequest(p.fetch),
        produceProfile: p.produce,
        fetchProfile: p.fetch,
      }));
    const curve = (key: 'ingest' | 'ingestHttpApi' | 'consume') => sweep.map((s) => ({ size: s.size, perGb: s[key] }));

    log('latency model…');
    const nearest = (size: number) =>
      profiles.reduce((best, p) => (Math.abs(p.size - size) < Math.abs(best.size - size) ? p : best));
    const latencyOf = (p: SizeProfile, frontDoor: FrontDoor = 'function-url') =>
      modelLatency({
        frontDoor,
        produceCalls: p.produceCalls,
        fetchCalls: p.fetchCalls,
        produceCpuMs: p.produce.cpuMs,
        fetchCpuMs: p.fetch.cpuMs,
        pollIntervalMs: LONG_POLL_INTERVAL_MS,
        samples: config.latencySamples,
      });
    const latency = {
      small: latencyOf(nearest(1 * KiB)),
      batch: latencyOf(nearest(100 * KiB)),
      smallApiGateway: latencyOf(nearest(1 * KiB), 'api-gateway'),
      pollIntervalMs: LONG_POLL_INTERVAL_MS,
    };

    let nats: BenchResults['nats'];
    const binary = config.nats ? findNatsServer() : undefined;
    if (!config.nats) nats = { skipped: 'not requested' };
    else if (!binary) nats = { skipped: `nats-server is not installed; install it with: ${NATS_INSTALL_HINT}` };
    else {
      log('NATS JetStream…');
      try {
        const server = await startNatsServer(binary);
        try {
          const runs: NatsThroughput[] = [];
          for (const t of config.throughput) runs.push(await measureNatsThroughput(server, t));
          nats = { serverVersion: server.version, runs };
        } finally {
          await server.stop();
        }
      } catch (error) {
        // The comparison is optional: a broken nats-server or a missing client skips it, never the bench.
        nats = { skipped: `NATS JetStream failed (${error instanceof Error ? error.message : String(error)})` };
      }
    }

    return {
      startedAt: new Date(started).toISOString(),
      durationSeconds: (Date.now() - started) / 1000,
      machine: {
        cpus: os.cpus().length,
        model: os.cpus()[0]?.model ?? 'unknown',
        loadAverage: os.loadavg(),
        node: process.version,
      },
      throughput,
      produceCalls,
      fetchCalls,
      hotPartition,
      admissions,
      cpu,
      logLength,
      profiles,
      cost: {
        rows,
        sweep,
        breakEven: {
          kinesisIngest: breakEvenSize(curve('ingest'), KINESIS_ON_DEMAND.ingestGb),
          kinesisIngestHttpApi: breakEvenSize(curve('ingestHttpApi'), KINESIS_ON_DEMAND.ingestGb),
          kinesisConsume: breakEvenSize(curve('consume'), KINESIS_ON_DEMAND.retrievalGb),
          mskIngest: breakEvenSize(curve('ingest'), 0.1),
        },
        alternatives: alternativesPerGb(RECORD_BYTES),
      },
      inline: {
        comparisons,
        scenarios: [
          { consumers: 1, retentionDays: 7 },
          { consumers: 1, retentionDays: 1 },
          { consumers: 1, retentionDays: 30 },
          { consumers: 3, retentionDays: 7 },
          { consumers: 0, retentionDays: 7 },
        ].map((s) => {
          const r = inlineRows(comparisons, s.consumers, s.retentionDays);
          return { ...s, rows: r, crossover: inlineCrossover(r) };
        }),
        current: INLINE_BATCH_MAX_BYTES,
      },
      latency,
      nats,
    };
  } finally {
    await stack.close();
  }
};
