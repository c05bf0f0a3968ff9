import { MiB } from '#shared/constants';
import { type RecordedCall, roundTrips, totals } from './call-recorder';
import type { RequestProfile } from './cost-model';
import { measureHandlerCpu } from './cpu';
import { meanWaitMs } from './latency-model';
import { type BenchStack, callJson, createTopic, produceBody, produceInputs } from './stack';

export const RECORD_BYTES = 1024;

export interface SizeProfile {
  size: number;
  produce: RequestProfile;
  fetch: RequestProfile;
  produceCalls: RecordedCall[];
  fetchCalls: RecordedCall[];
}

/**
 * The API key lookup is cached for 5 s per function instance, so in steady state it is
 * not part of a request's calls; an authenticated call just before a capture keeps an
 * expiring cache entry from landing in it.
 */
export const warmKeyCache = (stack: BenchStack) => callJson(stack.inProcess, '/v1/topics');

/**
 * Two captures of the same request, keeping the one with fewer sequential calls: the
 * tenant's quota accounting writes twice when it opens a new one-second window, once in
 * the steady state of a busy tenant, which is what the models describe.
 */
const steadyState = async (stack: BenchStack, request: () => Promise<unknown>) => {
  const first = await stack.recorder.capture(request);
  const second = await stack.recorder.capture(request);
  return roundTrips(second.calls) < roundTrips(first.calls) ? second : first;
};

const cpuRequests = (size: number, budgetBytes: number) => Math.max(3, Math.min(200, Math.ceil(budgetBytes / size)));

/**
 * Requests run before the CPU is measured: a warm function instance has served many, so
 * its JIT has optimised the request path (a 1 KiB produce takes about half the CPU after
 * 1,000 requests that it takes after 2).
 */
const cpuWarmup = (size: number, budgetBytes: number) => Math.max(2, Math.min(1000, Math.ceil(budgetBytes / size)));

/** What the cost model needs of one request: its payload, wire size, calls, CPU and wait. */
const requestProfile = (
  records: number,
  wireBytes: number,
  calls: Parameters<typeof totals>[0],
  cpuMs: number,
): RequestProfile => ({
  payloadBytes: records * RECORD_BYTES,
  records,
  wireBytes,
  calls: totals(calls),
  cpuMs,
  ioWaitMs: meanWaitMs(calls),
});

/**
 * For each request size: one produce of size/1 KB records of 1 KB to one partition (the
 * second of two, so its tail read sees a previous entry), then one fetch of exactly that
 * batch (at most 4 MiB, the fetch limit), recorded call by call on the local stack; the
 * handler's CPU for the same sizes over in-memory ports; the mean wait on AWS from the
 * latency model. Together: what the cost model prices.
 */
export const measureSizeProfiles = async (
  stack: BenchStack,
  sizes: readonly number[],
  options: { cpuBudgetBytes?: number } = {},
): Promise<SizeProfile[]> => {
  const profiles: SizeProfile[] = [];
  for (const size of sizes) {
    const records = Math.max(1, Math.round(size / RECORD_BYTES));
    const topic = `size-${size}-${Date.now()}`;
    await createTopic(stack.inProcess, topic, 1);
    const body = produceBody(records, RECORD_BYTES);
    const produce = () => callJson(stack.inProcess, `/v1/topics/${topic}/records`, { method: 'POST', body });
    await produce();
    await warmKeyCache(stack);
    const produced = await steadyState(stack, produce);
    const fetchRecords = Math.min(records, Math.floor((4 * MiB) / RECORD_BYTES));
    const path = `/v1/topics/${topic}/partitions/0/records?offset=${records}&maxRecords=${fetchRecords}&maxBytes=${4 * MiB}`;
    let fetchWire = 0;
    await warmKeyCache(stack);
    const fetched = await steadyState(stack, async () => {
      const text = await (await stack.inProcess(path)).text();
      fetchWire = text.length;
      const page = JSON.parse(text) as { records: unknown[] };
      if (page.records.length !== fetchRecords) throw new Error(`fetched ${page.records.length} of ${fetchRecords}`);
    });
    const cpu = await measureHandlerCpu({
      recordsPerRequest: records,
      recordBytes: RECORD_BYTES,
      requests: cpuRequests(size, options.cpuBudgetBytes ?? 8 * MiB),
      warmup: cpuWarmup(size, options.cpuBudgetBytes ?? 8 * MiB),
    });
    profiles.push({
      size,
      produce: requestProfile(records, body.length, produced.calls, cpu.produceUsPerRequest / 1000),
      fetch: requestProfile(fetchRecords, fetchWire, fetched.calls, (cpu.fetchUsPerRecord * fetchRecords) / 1000),
      produceCalls: produced.calls,
      fetchCalls: fetched.calls,
    });
  }
  return profiles;
};

export interface InlineComparison {
  size: number;
  inline: { produce: RequestProfile; fetch: RequestProfile };
  object: { produce: RequestProfile; fetch: RequestProfile };
}

/**
 * The same request stored both ways: inline in the index item, and as an S3 object
 * (the produce service's `inlineMaxBytes` forced to either side of the request size).
 */
export const measureInlineComparison = async (
  stack: BenchStack,
  sizes: readonly number[],
): Promise<InlineComparison[]> => {
  const out: InlineComparison[] = [];
  for (const size of sizes) {
    const records = Math.max(1, Math.round(size / RECORD_BYTES));
    const cpu = await measureHandlerCpu({
      recordsPerRequest: records,
      recordBytes: RECORD_BYTES,
      requests: 20,
      warmup: 3,
    });
    const input = produceInputs(records, RECORD_BYTES);
    const body = produceBody(records, RECORD_BYTES);
    const measureMode = async (inlineMaxBytes: number) => {
      const name = `inline-${size}-${inlineMaxBytes}-${Date.now()}`;
      await createTopic(stack.inProcess, name, 1);
      const produce = async () => {
        // The topic lookup the route does, then the produce with the threshold forced.
        const topic = await stack.services.topics.get(stack.tenantId, name);
        await stack.services.producer.produce(topic, input, { limits: stack.services.limits, inlineMaxBytes });
      };
      await produce();
      await warmKeyCache(stack);
      const produced = await stack.recorder.capture(produce);
      const path = `/v1/topics/${name}/partitions/0/records?offset=${records}&maxRecords=${records}`;
      let wire = 0;
      await warmKeyCache(stack);
      const fetched = await stack.recorder.capture(async () => {
        const text = await (await stack.inProcess(path)).text();
        wire = text.length;
      });
      return {
        produce: requestProfile(records, body.length, produced.calls, cpu.produceUsPerRequest / 1000),
        fetch: requestProfile(records, wire, fetched.calls, cpu.fetchUsPerRequest / 1000),
      };
    };
    out.push({ size, inline: await measureMode(Number.MAX_SAFE_INTEGER), object: await measureMode(0) });
  }
  return out;
};
