import { describe, expect, it } from 'vitest';
import { KiB } from '#shared/constants';
import { USAGE_SHARDS } from '#shared/ports/usage-store';
import { NATS_INSTALL_HINT } from './nats';
import { renderCharts, renderReport } from './report';
import { type BenchConfig, type BenchResults, runBench } from './run';

/** The whole bench at toy sizes: the script runs end to end and its outputs are well-formed. No timing is asserted. */
const SMOKE_NOW = Date.now();
const SMOKE_CONFIG: BenchConfig = {
  throughput: [
    { concurrency: 1, requestsPerWorker: 2, recordsPerRequest: 10 },
    { concurrency: 8, requestsPerWorker: 1, recordsPerRequest: 10 },
  ],
  callRequests: 1,
  hotPartition: [
    { writers: 1, appendsPerWriter: 3 },
    { writers: 4, appendsPerWriter: 3 },
  ],
  admissionRounds: 2,
  cpuRequests: 10,
  logLengths: [
    { records: 10, recordsPerEntry: 1 },
    { records: 2000, recordsPerEntry: 100 },
  ],
  logFetches: 3,
  sweepSizes: [1 * KiB, 100 * KiB],
  costSizes: [1 * KiB, 16 * KiB],
  inlineSizes: [2 * KiB, 16 * KiB],
  latencySamples: 500,
  cpuBudgetBytes: 64 * KiB,
  nats: true,
  // The service's clock stands still: every fetch falls in one quota window, so the call
  // counts below do not depend on how fast the machine is (the full bench uses the real clock).
  clock: () => SMOKE_NOW,
};

let results: BenchResults;

describe('npm run bench (smoke)', () => {
  it('runs every part at toy sizes', { timeout: 180_000 }, async () => {
    results = await runBench(SMOKE_CONFIG);
    expect(results.durationSeconds).toBeGreaterThan(0);
  });

  it('measures throughput and reads back every record', () => {
    expect(results.throughput.map((t) => t.concurrency)).toEqual([1, 8]);
    for (const t of results.throughput) {
      expect(t.records).toBe(t.concurrency * (t.concurrency === 1 ? 2 : 1) * 10);
      expect(t.produceRecordsPerSec).toBeGreaterThan(0);
      expect(t.fetchMBps).toBeGreaterThan(0);
      expect(t.callsPerProduce['S3.PutObject']).toBe(1);
    }
  });

  it('counts the calls the targets allow', () => {
    const [small1, small10, large1, large10] = results.produceCalls;
    expect(small1?.perRequest['DynamoDB.PutItem']).toBe(1);
    expect(small1?.perRequest['S3.PutObject']).toBeUndefined();
    expect(small10?.perRequest['DynamoDB.PutItem']).toBe(10);
    expect(small10?.perRequest['S3.PutObject']).toBeUndefined();
    expect(large1?.perRequest['S3.PutObject']).toBe(1);
    expect(large10?.perRequest['S3.PutObject']).toBe(1);
    expect(large10?.perRequest['DynamoDB.PutItem']).toBe(10);
    // Two round trips, with or without S3: the topic's validation, the reads of the partition's
    // tail and counter, and the S3 PUT side by side, then the entry's conditional put at the
    // tail's end with the usage write alongside. UpdateItem: the usage write alone (one writer
    // appends at the tail, no offset reservation).
    expect(large1?.perRequest['DynamoDB.UpdateItem']).toBe(1);
    expect(large1?.perRequest['DynamoDB.Query']).toBe(1);
    for (const p of results.produceCalls) expect(p.roundTrips).toBe(2);
    expect(small1?.writeUnits).toBeGreaterThanOrEqual(1);

    const [inline, segments] = results.fetchCalls;
    // The validation, the bounds and the index query side by side [then the S3 GETs]; the
    // fetched bytes are written with the next request.
    expect(inline?.roundTrips).toBe(1);
    expect(segments?.roundTrips).toBe(2);
    expect(inline?.perRequest['DynamoDB.UpdateItem']).toBe(1);
    expect(inline?.perRequest['S3.GetObject']).toBeUndefined();
    expect(segments?.segments).toBe(5);
    expect(segments?.perRequest['S3.GetObject']).toBe(5);

    expect(results.hotPartition.map((h) => h.via)).toEqual(['api', 'api', 'append', 'append']);
    const [one, four] = results.hotPartition.slice(2);
    expect(one?.attemptsPerAppend).toBe(1);
    expect(four?.attemptsPerAppend).toBeGreaterThanOrEqual(1);
    expect(four?.refused).toBe(0);
    // One writer appends at the tail: no reservation. Racing writers end the tail era, and the
    // partition's counter is then its hottest item: at most one write per append.
    expect(one?.reservationsPerAppend).toBe(0);
    expect(four?.hottestItemWritesPerAppend).toBeLessThanOrEqual(1);
  });

  it('spreads a tenant’s writes: no item takes every produce, the modelled ceiling is ≥ 20,000 requests/s', () => {
    const a = results.admissions;
    expect(a.requests).toBe(2 * USAGE_SHARDS);
    // The clock stands still: every usage shard took exactly one write per USAGE_SHARDS requests.
    expect(a.hottestItemWritesPerRequest).toBe(1 / USAGE_SHARDS);
    expect(a.ceilingPerSecond).toBeGreaterThanOrEqual(20_000);
  });

  it('keeps fetch calls flat as the log grows', () => {
    const [short, long] = results.logLength;
    expect(short?.records).toBe(10);
    expect(long?.records).toBe(2000);
    expect(long?.callsPerFetch).toEqual(short?.callsPerFetch);
    // The steady state has one quota write; a fetch that opens a window has two (none here: the clock stands still).
    expect(long?.callsPerFetch['DynamoDB.UpdateItem']).toBe(1);
    expect(long?.quotaWindowOpenings).toBe(0);
    expect(results.cpu.produceUsPerRecord).toBeGreaterThan(0);
    expect(results.cpu.fetchUsPerRecord).toBeGreaterThan(0);
  });

  it('prices requests: positive, falling per GB as requests grow', () => {
    const rows = results.cost.rows;
    expect(rows.map((r) => r.size)).toEqual([1 * KiB, 16 * KiB]);
    for (const r of rows) {
      expect(r.ingestPerGb).toBeGreaterThan(0);
      // The default front door (Function URL) has no per-request fee of its own; API Gateway adds one.
      expect(r.ingestPerGb).toBeLessThan(r.ingestPerGbHttpApi);
      expect(r.produce.apiGateway).toBe(0);
      expect(r.produce.total).toBeCloseTo(
        r.produce.apiGateway +
          r.produce.lambdaRequest +
          r.produce.lambdaDuration +
          r.produce.dynamodbReads +
          r.produce.dynamodbWrites +
          r.produce.s3Puts +
          r.produce.s3Gets,
        12,
      );
    }
    const sweep = results.cost.sweep;
    expect(sweep.at(-1)?.ingest).toBeLessThan(sweep[0]?.ingest ?? 0);
    // 1 KiB is inline (no PUT), 16 KiB is not.
    expect(rows[0]?.produce.s3Puts).toBe(0);
    expect(rows[1]?.produce.s3Puts).toBeGreaterThan(0);
    for (const s of results.inline.scenarios) for (const r of s.rows) expect(r.inline).toBeGreaterThan(0);
  });

  it('models latency with p50 below p99 and the expected round trips', () => {
    for (const model of [results.latency.small, results.latency.batch]) {
      expect(model.produce.p50).toBeGreaterThan(0);
      expect(model.produce.p50).toBeLessThanOrEqual(model.produce.p99);
      expect(model.endToEnd.p50).toBeGreaterThan(model.produce.p50);
    }
    expect(results.latency.small.roundTrips.produce).toBe(2);
    expect(results.latency.batch.roundTrips.produce).toBe(2);
    expect(results.latency.batch.roundTrips.fetch).toBeLessThanOrEqual(2);
  });

  it('runs NATS JetStream when installed, and says how to install it when not', () => {
    if ('skipped' in results.nats) expect(results.nats.skipped).toContain(NATS_INSTALL_HINT);
    else for (const run of results.nats.runs) expect(run.consumeRecordsPerSec).toBeGreaterThan(0);
  });

  it('renders the report and the charts', () => {
    const report = renderReport(results);
    for (const heading of ['## Headline figures', '## Cost model', '## Latency model', '## The inline threshold'])
      expect(report).toContain(heading);
    expect(report).not.toContain('NaN');
    for (const svg of Object.values(renderCharts(results))) {
      expect(svg.startsWith('<svg')).toBe(true);
      expect(svg).not.toContain('NaN');
    }
  });
});
