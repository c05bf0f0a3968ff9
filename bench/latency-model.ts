import { SEGMENT_PUT_HEDGE_AFTER_MS } from '#shared/constants';
import { mulberry32 } from '#shared/domain/seeded-random';
import { type RecordedCall, roundTrips } from './call-recorder';
import { DEFAULT_FRONT_DOOR, type FrontDoor, MODEL_ASSUMPTIONS } from './prices';

export type { FrontDoor } from './prices';

/**
 * Per-call latencies in AWS, as lognormal distributions fixed by their median and 99th
 * percentile. The figures are published ones where AWS publishes any, and stated
 * assumptions where it does not; docs/performance.md prints this table.
 */
export interface LatencyDistribution {
  p50Ms: number;
  p99Ms: number;
  source: string;
}

export const LATENCY_DISTRIBUTIONS = {
  dynamodbRead: {
    p50Ms: 4,
    p99Ms: 12,
    source:
      'DynamoDB "single-digit millisecond performance at any scale" (aws.amazon.com/dynamodb); p50 4 ms, p99 12 ms for a strongly consistent GetItem/Query from Lambda in the same region (assumed tail)',
  },
  dynamodbWrite: {
    p50Ms: 6,
    p99Ms: 20,
    source:
      'DynamoDB single-digit ms (as above); a conditional PutItem replicates to a quorum before answering: p50 6 ms, p99 20 ms (assumed tail)',
  },
  s3Put: {
    p50Ms: 35,
    p99Ms: 200,
    source:
      'S3 Standard: "median latency often in the tens of milliseconds" for requests < 512 KB (AWS whitepaper "Best Practices Design Patterns: Optimizing Amazon S3 Performance", timeouts and retries), "roughly 100-200 ms" small-object latencies (same paper); WarpStream reports ~400 ms p99 produce with S3 Standard',
  },
  s3Get: {
    p50Ms: 25,
    p99Ms: 150,
    source: 'S3 Standard first byte, same sources as PUT: tens of ms median, 100-200 ms tail',
  },
  functionUrlLambda: {
    p50Ms: 6,
    p99Ms: 20,
    source:
      'Lambda Function URL + warm Lambda invoke, both directions, client in the same region: the same invoke without the API Gateway hop; AWS publishes no figure (assumption: 4 ms less than through API Gateway at the median, 10 ms less at p99). Cold starts excluded.',
  },
  apiGatewayLambda: {
    p50Ms: 10,
    p99Ms: 30,
    source:
      'API Gateway HTTP API + warm Lambda invoke, both directions, client in the same region; AWS publishes no figure, commonly measured 5-15 ms median (assumption). Cold starts excluded.',
  },
} as const satisfies Record<string, LatencyDistribution>;

/** Bytes per ms one S3 request streams once the first byte is out (80 MB/s: an assumption, not a published figure). */
export const S3_STREAM_BYTES_PER_MS = 80_000;

/** Tail re-checks a long poll makes in an hour per watched partition: it waits the interval, then reads. */
export const reChecksPerHour = (pollIntervalMs: number): number =>
  3_600_000 / (pollIntervalMs + LATENCY_DISTRIBUTIONS.dynamodbRead.p50Ms);

/** Deterministic random numbers, so a run's figures are reproducible. */
export const seededRandom = mulberry32;

const Z99 = 2.3263478740408408;

/** One draw of a lognormal with the given median and 99th percentile. */
export const sampleLatency = (d: LatencyDistribution, random: () => number): number => {
  const sigma = Math.log(d.p99Ms / d.p50Ms) / Z99;
  // Box-Muller; 1 - u keeps the logarithm finite.
  const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return d.p50Ms * Math.exp(sigma * z);
};

/** Mean of the lognormal: what Lambda bills on average for the wait. */
export const meanLatency = (d: LatencyDistribution): number => {
  const sigma = Math.log(d.p99Ms / d.p50Ms) / Z99;
  return d.p50Ms * Math.exp((sigma * sigma) / 2);
};

export const distributionOf = (operation: string): LatencyDistribution => {
  if (operation === 'S3.PutObject') return LATENCY_DISTRIBUTIONS.s3Put;
  if (operation === 'S3.GetObject') return LATENCY_DISTRIBUTIONS.s3Get;
  if (operation === 'DynamoDB.PutItem' || operation === 'DynamoDB.UpdateItem' || operation === 'DynamoDB.DeleteItem')
    return LATENCY_DISTRIBUTIONS.dynamodbWrite;
  if (operation.startsWith('DynamoDB.')) return LATENCY_DISTRIBUTIONS.dynamodbRead;
  throw new Error(`No latency distribution for ${operation}`);
};

const transferMs = (call: RecordedCall) => (call.operation.startsWith('S3.') ? call.bytes / S3_STREAM_BYTES_PER_MS : 0);

/** Standard normal upper tail, P(Z > z) (Abramowitz & Stegun 7.1.26, error < 1.5e-7). */
const normalTail = (z: number): number => {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erfc =
    t *
    (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) *
    Math.exp(-x * x);
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
};

/** P(latency > ms) for a lognormal with the given median and 99th percentile. */
export const exceedance = (d: LatencyDistribution, ms: number): number =>
  normalTail(Math.log(ms / d.p50Ms) / (Math.log(d.p99Ms / d.p50Ms) / Z99));

/**
 * Segment PUTs are hedged (shared/services/hedge.ts): one still unanswered after
 * SEGMENT_PUT_HEDGE_AFTER_MS gets an identical twin and the first answer counts. The
 * fraction of PUTs sent twice, which the cost model adds to the PUT count.
 */
export const S3_PUT_HEDGED_FRACTION = exceedance(LATENCY_DISTRIBUTIONS.s3Put, SEGMENT_PUT_HEDGE_AFTER_MS);

export const sampleCall = (call: RecordedCall, random: () => number) => {
  const first = sampleLatency(distributionOf(call.operation), random);
  if (call.operation !== 'S3.PutObject') return first + transferMs(call);
  const twin = SEGMENT_PUT_HEDGE_AFTER_MS + sampleLatency(LATENCY_DISTRIBUTIONS.s3Put, random);
  return Math.min(first, twin) + transferMs(call);
};

/**
 * Replays a recorded sequence of calls with new per-call latencies, keeping its shape:
 * a call starts when every call that had ended before it started (locally) has ended
 * (in the model). Returns when the last call the answer waits for ends (calls sent beside
 * the answer, the usage shards', are not waited for; a usage read may still delay the calls
 * that started after it, a usage write delays nothing) and when
 * the last index write ended (the commit: from then on a reader sees the records).
 */
export const replayCalls = (calls: readonly RecordedCall[], latencyOf: (call: RecordedCall) => number) => {
  const sorted = [...calls].sort((a, b) => a.start - b.start);
  const ends: number[] = [];
  let doneAt = 0;
  let commitAt = 0;
  sorted.forEach((call, j) => {
    let ready = 0;
    for (let i = 0; i < j; i++) {
      const before = sorted[i] as RecordedCall;
      if (!before.delaysNothing && before.end <= call.start) ready = Math.max(ready, ends[i] as number);
    }
    const end = ready + latencyOf(call);
    ends.push(end);
    if (!call.beside) doneAt = Math.max(doneAt, end);
    if (call.operation === 'DynamoDB.PutItem') commitAt = Math.max(commitAt, end);
  });
  return { doneAt, commitAt };
};

/** Local CPU time as Lambda would spend it: below 1,769 MB a function gets a share of one vCPU. */
export const lambdaCpuMs = (localCpuMs: number, memoryMb: number = MODEL_ASSUMPTIONS.lambdaMemoryMb) =>
  localCpuMs * Math.max(1, MODEL_ASSUMPTIONS.lambdaFullVcpuMb / memoryMb);

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  mean: number;
}

export const percentiles = (samples: readonly number[]): Percentiles => {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), mean: sorted.reduce((s, x) => s + x, 0) / sorted.length };
};

/** The request overhead (in and out, warm invoke) of a front door. */
export const frontDoorLatency = (frontDoor: FrontDoor): LatencyDistribution =>
  frontDoor === 'api-gateway' ? LATENCY_DISTRIBUTIONS.apiGatewayLambda : LATENCY_DISTRIBUTIONS.functionUrlLambda;

export interface LatencyModelInput {
  /** The calls of one produce, as recorded on the local stack. */
  produceCalls: readonly RecordedCall[];
  /** The calls of one fetch of that data. */
  fetchCalls: readonly RecordedCall[];
  /** Handler CPU per request, measured locally (ms). */
  produceCpuMs: number;
  fetchCpuMs: number;
  /** The long poll's re-check interval (ms). */
  pollIntervalMs: number;
  /** What requests come through. @default 'function-url' (the stack's default front door) */
  frontDoor?: FrontDoor;
  samples: number;
  seed?: number;
}

export interface LatencyModel {
  produce: Percentiles;
  fetch: Percentiles;
  endToEnd: Percentiles;
  /** Sequential AWS round trips on each path. */
  roundTrips: { produce: number; fetch: number; endToEnd: number };
  /** The raw samples, for the charts. */
  samples: { produce: number[]; endToEnd: number[] };
}

/**
 * Monte Carlo over the recorded call sequences. End to end: the producer's request
 * reaches the function, its calls run until the index write commits; a consumer in
 * another function instance is in a long poll, re-reading the partition's last entry
 * every `pollIntervalMs` (plus that read's own latency), at a random phase; the first
 * re-check that starts after the commit sees the records, then the fetch reads the
 * partition bounds and the records (the recorded fetch without its topic lookup, done
 * before the wait), and the response travels back.
 */
export const modelLatency = (input: LatencyModelInput): LatencyModel => {
  const random = seededRandom(input.seed ?? 42);
  const overhead = frontDoorLatency(input.frontDoor ?? DEFAULT_FRONT_DOOR);
  const produceCpu = lambdaCpuMs(input.produceCpuMs);
  const fetchCpu = lambdaCpuMs(input.fetchCpuMs);
  const afterWake = input.fetchCalls.filter((c) => c.operation !== 'DynamoDB.GetItem');
  const produce: number[] = [];
  const fetch: number[] = [];
  const endToEnd: number[] = [];
  for (let i = 0; i < input.samples; i++) {
    const inOut = sampleLatency(overhead, random);
    const p = replayCalls(input.produceCalls, (c) => sampleCall(c, random));
    produce.push(inOut + produceCpu + p.doneAt);
    fetch.push(
      sampleLatency(overhead, random) + fetchCpu + replayCalls(input.fetchCalls, (c) => sampleCall(c, random)).doneAt,
    );

    // Half the request overhead lies before the handler starts.
    const commitAt = inOut / 2 + produceCpu + p.commitAt;
    // The consumer's poll loop: [wait interval][re-check read][wait]...; its phase is random.
    let waitStart = -random() * (input.pollIntervalMs + LATENCY_DISTRIBUTIONS.dynamodbRead.p50Ms);
    let seenAt = 0;
    for (;;) {
      const checkStart = waitStart + input.pollIntervalMs;
      const checkEnd = checkStart + sampleLatency(LATENCY_DISTRIBUTIONS.dynamodbRead, random);
      if (checkStart >= commitAt) {
        seenAt = checkEnd;
        break;
      }
      waitStart = checkEnd;
    }
    const read = replayCalls(afterWake, (c) => sampleCall(c, random)).doneAt;
    endToEnd.push(seenAt + read + fetchCpu + sampleLatency(overhead, random) / 2);
  }
  const produceToCommit = roundTrips(input.produceCalls.filter((c) => c.operation !== 'S3.GetObject'));
  return {
    produce: percentiles(produce),
    fetch: percentiles(fetch),
    endToEnd: percentiles(endToEnd),
    roundTrips: {
      produce: roundTrips(input.produceCalls),
      fetch: roundTrips(input.fetchCalls),
      endToEnd: produceToCommit + 1 + roundTrips(afterWake),
    },
    samples: { produce, endToEnd },
  };
};

/** Mean time the handler waits on a recorded call sequence (Monte Carlo): what Lambda bills for I/O. */
export const meanWaitMs = (calls: readonly RecordedCall[], samples = 2000, seed = 7) => {
  const random = seededRandom(seed);
  let sum = 0;
  for (let i = 0; i < samples; i++) sum += replayCalls(calls, (c) => sampleCall(c, random)).doneAt;
  return sum / samples;
};
