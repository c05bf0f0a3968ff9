import { performance } from 'node:perf_hooks';
import { encodeBatch } from '#shared/domain/segment-codec';
import { totals } from './call-recorder';
import { percentiles } from './latency-model';
import { warmKeyCache } from './profiles';
import { type BenchStack, callJson, createTopic, produceInputs } from './stack';

export interface LogLengthResult {
  records: number;
  indexEntries: number;
  /** How the partition was filled and how long it took. */
  writeSeconds: number;
  /**
   * Calls of one steady-state fetch of `maxRecords` from the middle of the log: the
   * measured fetch with the fewest calls. A fetch that happens to open the tenant's next
   * one-second quota window makes one more UpdateItem, which has nothing to do with the
   * log's length (counted in `quotaWindowOpenings`).
   */
  callsPerFetch: Record<string, number>;
  /** Measured fetches that paid the extra quota-window write, of `fetches`. */
  quotaWindowOpenings: number;
  fetches: number;
  readUnitsPerFetch: number;
  s3BytesPerFetch: number;
  latencyMs: { p50: number; p90: number; mean: number };
}

/**
 * A partition of `records` records, in index entries of `recordsPerEntry` records. The
 * entries point, in turn, at the consecutive batches of one S3 object holding up to ten
 * copies of an encoded batch (batches carry no offsets, so the same bytes decode
 * correctly at any base offset; neighbouring entries are neighbouring byte ranges, as
 * after a produce). The entries are written through the
 * LogIndex port with the same conditional write a produce uses, which takes seconds for
 * 10^6 records instead of producing a gigabyte. Then `fetches` fetches of `maxRecords`
 * from the middle, through the app, counted and timed.
 */
export const measureFetchVersusLogLength = async (
  stack: BenchStack,
  options: { records: number; recordsPerEntry: number; recordBytes: number; maxRecords: number; fetches: number },
): Promise<LogLengthResult> => {
  const name = `log-${options.records}-${Date.now()}`;
  await createTopic(stack.inProcess, name, 1);
  const topic = await stack.services.topics.get(stack.tenantId, name);
  const ref = { tenantId: topic.tenantId, topicId: topic.topicId, partition: 0 };
  const perEntry = Math.min(options.recordsPerEntry, options.records);
  const batch = encodeBatch(produceInputs(perEntry, options.recordBytes));
  const objectKey = `7d/${topic.tenantId}/${topic.topicId}/bench/log-length.seg`;
  const started = performance.now();
  const entries = Math.ceil(options.records / perEntry);
  const copies = Math.min(entries, 10);
  await stack.deps.segments.put(objectKey, Buffer.concat(Array.from({ length: copies }, () => batch)));
  const now = Date.now();
  let next = 0;
  const writer = async () => {
    while (next < entries) {
      const i = next++;
      await stack.deps.index.append(ref, {
        baseOffset: i * perEntry,
        recordCount: perEntry,
        appendTime: now,
        maxTimestamp: now,
        sizeBytes: perEntry * options.recordBytes,
        location: {
          kind: 'object',
          objectKey,
          byteOffset: (i % copies) * batch.byteLength,
          byteLength: batch.byteLength,
        },
      });
    }
  };
  await Promise.all(Array.from({ length: 8 }, writer));
  const writeSeconds = (performance.now() - started) / 1000;
  const total = entries * perEntry;

  // From the middle, at an entry boundary, so every length does the same work.
  const middle = Math.floor(entries / 2) * perEntry;
  const path = `/v1/topics/${name}/partitions/0/records?offset=${middle}&maxRecords=${options.maxRecords}`;
  const fetchMiddle = async () => {
    const page = await callJson<{ records: { offset: number }[]; highWatermark: number }>(stack.inProcess, path);
    if (page.records[0]?.offset !== middle || page.highWatermark !== total) throw new Error('unexpected fetch result');
  };
  await fetchMiddle();
  const latencies: number[] = [];
  const perFetch: Record<string, number>[] = [];
  let readUnits = 0;
  let s3Bytes = 0;
  for (let i = 0; i < options.fetches; i++) {
    await warmKeyCache(stack);
    stack.counter.reset();
    const t0 = performance.now();
    const { calls } = await stack.recorder.capture(fetchMiddle);
    latencies.push(performance.now() - t0);
    perFetch.push({ ...stack.counter.snapshot() });
    const t = totals(calls);
    readUnits += t.readUnits;
    s3Bytes += t.s3GetBytes;
  }
  const callCount = (calls: Record<string, number>) => Object.values(calls).reduce((a, b) => a + b, 0);
  const callsPerFetch = perFetch.reduce((best, calls) => (callCount(calls) < callCount(best) ? calls : best));
  const steadyUpdates = callsPerFetch['DynamoDB.UpdateItem'] ?? 0;
  const quotaWindowOpenings = perFetch.filter((calls) => (calls['DynamoDB.UpdateItem'] ?? 0) > steadyUpdates).length;
  const p = percentiles(latencies);
  return {
    records: total,
    indexEntries: entries,
    writeSeconds,
    callsPerFetch,
    quotaWindowOpenings,
    fetches: options.fetches,
    readUnitsPerFetch: readUnits / options.fetches,
    s3BytesPerFetch: s3Bytes / options.fetches,
    latencyMs: { p50: p.p50, p90: p.p90, mean: p.mean },
  };
};
