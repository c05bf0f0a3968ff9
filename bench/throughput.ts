import { performance } from 'node:perf_hooks';
import { divide } from './call-recorder';
import { type BenchStack, callJson, createTopic, produceBody } from './stack';

export interface ThroughputResult {
  concurrency: number;
  recordsPerRequest: number;
  recordBytes: number;
  records: number;
  produceRequests: number;
  produceSeconds: number;
  produceRecordsPerSec: number;
  /** Record payload, 10^6 bytes per second. */
  produceMBps: number;
  fetchRequests: number;
  fetchSeconds: number;
  fetchRecordsPerSec: number;
  fetchMBps: number;
  /** AWS calls per produce request during the run (SdkCallCounter). */
  callsPerProduce: Record<string, number>;
  callsPerFetch: Record<string, number>;
}

/**
 * Produce `requestsPerWorker` requests of `recordsPerRequest` records per worker, then
 * read everything back, over loopback HTTP to the app served by @hono/node-server (as
 * `npm start` serves it). Each worker owns one partition, so the figures are the
 * stack's, not those of contention on one partition (measured separately).
 */
export const measureThroughput = async (
  stack: BenchStack,
  options: { concurrency: number; requestsPerWorker: number; recordsPerRequest?: number; recordBytes?: number },
): Promise<ThroughputResult> => {
  const { concurrency, requestsPerWorker } = options;
  const recordsPerRequest = options.recordsPerRequest ?? 100;
  const recordBytes = options.recordBytes ?? 1024;
  const request = stack.overHttp;
  const topic = `throughput-c${concurrency}-${Date.now()}`;
  await createTopic(request, topic, concurrency);
  // Warm the key cache and the connections.
  await callJson(request, `/v1/topics/${topic}`);

  stack.counter.reset();
  let start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      const body = produceBody(recordsPerRequest, recordBytes, 1, worker);
      for (let i = 0; i < requestsPerWorker; i++) {
        await callJson(request, `/v1/topics/${topic}/records`, { method: 'POST', body });
      }
    }),
  );
  const produceSeconds = (performance.now() - start) / 1000;
  const produceRequests = concurrency * requestsPerWorker;
  const callsPerProduce = divide(stack.counter.snapshot(), produceRequests);

  const perWorker = requestsPerWorker * recordsPerRequest;
  let fetchRequests = 0;
  let fetchedBytes = 0;
  let fetchedRecords = 0;
  stack.counter.reset();
  start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      let offset = 0;
      while (offset < perWorker) {
        const page = await callJson<{ records: { value: string }[]; nextOffset: number }>(
          request,
          `/v1/topics/${topic}/partitions/${worker}/records?offset=${offset}&maxRecords=500`,
        );
        fetchRequests += 1;
        for (const r of page.records) fetchedBytes += r.value.length;
        fetchedRecords += page.records.length;
        if (page.nextOffset <= offset) throw new Error(`fetch made no progress at ${offset}`);
        offset = page.nextOffset;
      }
    }),
  );
  const fetchSeconds = (performance.now() - start) / 1000;
  const callsPerFetch = divide(stack.counter.snapshot(), fetchRequests);
  const records = produceRequests * recordsPerRequest;
  if (fetchedRecords !== records) throw new Error(`read back ${fetchedRecords} of ${records} records`);
  const payload = records * recordBytes;
  return {
    concurrency,
    recordsPerRequest,
    recordBytes,
    records,
    produceRequests,
    produceSeconds,
    produceRecordsPerSec: records / produceSeconds,
    produceMBps: payload / 1e6 / produceSeconds,
    fetchRequests,
    fetchSeconds,
    fetchRecordsPerSec: fetchedRecords / fetchSeconds,
    fetchMBps: fetchedBytes / 1e6 / fetchSeconds,
    callsPerProduce,
    callsPerFetch,
  };
};
