import { USAGE_SHARDS } from '#shared/ports/usage-store';
import type { RecordedCall } from './call-recorder';
import { warmKeyCache } from './profiles';
import { type BenchStack, callJson, createTopic, produceBody } from './stack';

/** DynamoDB allows about 1,000 writes per second on one item (its partition's write limit for one key). */
export const ITEM_WRITES_PER_SECOND = 1000;

const WRITES = new Set(['DynamoDB.PutItem', 'DynamoDB.UpdateItem', 'DynamoDB.DeleteItem']);

export interface TenantAdmissions {
  requests: number;
  /** Distinct items written over the run. */
  itemsWritten: number;
  /** Writes (successful or not) on the most written item, per produce request. */
  hottestItemWritesPerRequest: number;
  /** The hottest item's sort key (its kind). */
  hottestItem: string;
  /** Produce requests per second one tenant can make before one of its items reaches the per-item limit. */
  ceilingPerSecond: number;
}

/**
 * Sends `rounds × USAGE_SHARDS` small produce requests of one tenant in steady state (after
 * a warm-up round that starts every usage shard's window) and counts the writes each item
 * took. The item written most often bounds the tenant: at 1,000 writes/s per item, the
 * ceiling is 1,000 / (its writes per request). Partition offset counters are left out: each
 * bounds its own partition at 1,000 appends/s, and a tenant's requests spread over partitions.
 */
export const measureTenantAdmissions = async (stack: BenchStack, rounds: number): Promise<TenantAdmissions> => {
  const topic = `admissions-${Date.now()}`;
  await createTopic(stack.inProcess, topic, 4);
  const body = produceBody(1, 100, 4);
  const produce = () => callJson(stack.inProcess, `/v1/topics/${topic}/records`, { method: 'POST', body });
  for (let i = 0; i < USAGE_SHARDS; i++) await produce();
  await warmKeyCache(stack);
  const requests = rounds * USAGE_SHARDS;
  const calls: RecordedCall[] = [];
  for (let i = 0; i < requests; i++) calls.push(...(await stack.recorder.capture(produce)).calls);
  const writes = new Map<string, number>();
  // A partition's offset counter takes one write per append to that partition: it bounds the
  // partition (the hot-partition figures), not the tenant, whose requests spread over partitions.
  for (const c of calls) {
    if (!WRITES.has(c.operation) || !c.item || c.item.split(' ')[1]?.endsWith('#next')) continue;
    writes.set(c.item, (writes.get(c.item) ?? 0) + 1);
  }
  const [hottest, most] = [...writes.entries()].reduce((a, b) => (b[1] > a[1] ? b : a), ['', 0]);
  return {
    requests,
    itemsWritten: writes.size,
    hottestItemWritesPerRequest: most / requests,
    hottestItem: hottest.split(' ').slice(2).join(' ').replace(/#\d+$/, '#<nn>'),
    ceilingPerSecond: most === 0 ? Number.POSITIVE_INFINITY : (ITEM_WRITES_PER_SECOND * requests) / most,
  };
};

/** One produce and one non-empty fetch per usage shard, so that each has started its window. */
export const warmUsageShards = async (stack: BenchStack): Promise<void> => {
  const topic = `usage-warm-${Date.now()}`;
  await createTopic(stack.inProcess, topic, 1);
  for (let i = 0; i < USAGE_SHARDS; i++) {
    await callJson(stack.inProcess, `/v1/topics/${topic}/records`, { method: 'POST', body: produceBody(1, 10) });
    await callJson(stack.inProcess, `/v1/topics/${topic}/partitions/0/records?offset=0&maxRecords=1`);
  }
};
