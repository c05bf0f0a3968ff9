import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PartitionRef } from '#shared/ports/log-index';
import { DESCRIBE_READS_PER_TENANT } from '#shared/services/topics';
import { apiClient, OPERATOR_KEY, partitionRef, type Stack, startStack } from './harness';

/**
 * A describe costs one or two index reads per partition, however many entries the
 * partitions hold, and one tenant's concurrent describes hold at most a bounded number of
 * storage reads at once on an instance (so another tenant's produce does not queue behind them).
 */
let stack: Stack;
/** Index queries in flight and their peak, for partition keys starting with `watched`. */
let watched = '\u0000';
let inFlight = 0;
let peak = 0;
let reads = 0;
beforeAll(async () => {
  stack = await startStack({
    attach: ({ dynamodb }) =>
      dynamodb.middlewareStack.add(
        (next, context) => async (args) => {
          const pk = (args.input as any)?.ExpressionAttributeValues?.[':pk'];
          const counted = context.commandName === 'QueryCommand' && typeof pk === 'string' && pk.startsWith(watched);
          if (!counted) return next(args);
          reads += 1;
          inFlight += 1;
          peak = Math.max(peak, inFlight);
          try {
            return await next(args);
          } finally {
            inFlight -= 1;
          }
        },
        { step: 'initialize', name: 'countDescribeReads' },
      ),
  });
}, 30_000);
afterAll(() => stack.close());

/** Appends `count` one-record entries straight to the index (fast; the describe only reads the index). */
const appendEntries = async (ref: PartitionRef, from: number, count: number) => {
  for (let i = 0; i < count; i++) {
    await stack.deps.index.append(ref, {
      baseOffset: from + i,
      recordCount: 1,
      appendTime: Date.now(),
      maxTimestamp: Date.now(),
      sizeBytes: 1,
      location: { kind: 'inline', data: new Uint8Array([0]) },
    });
  }
};

describe('describe of a wide or long topic', () => {
  it('reads the same number of index items however many entries a partition holds', async () => {
    expect((await stack.api.post('/v1/topics', { name: 'long', partitions: 3 })).status).toBe(201);
    const ref = await partitionRef(stack, 'long', 0);
    await appendEntries(ref, 0, 5);
    watched = `${ref.tenantId}#${ref.topicId}#`;
    reads = 0;
    const short = await stack.api.get('/v1/topics/long');
    expect(reads).toBeLessThanOrEqual(3);
    expect(short.body.partitionStates[0]).toMatchObject({
      highWatermark: 5,
      segments: 5,
      retainedBytes: 5,
      statsComplete: true,
    });

    await appendEntries(ref, 5, 245);
    reads = 0;
    const long = await stack.api.get('/v1/topics/long');
    // One more read for the long partition's last entry, none for the entries themselves.
    expect(reads).toBeLessThanOrEqual(4);
    expect(long.body.partitionStates[0]).toMatchObject({
      logStartOffset: 0,
      highWatermark: 250,
      segments: 100,
      statsComplete: false,
    });
    expect(long.body.partitionStates[1]).toMatchObject({ highWatermark: 0, statsComplete: true });
  });

  it('bounds one tenant’s concurrent describe reads on an instance, and answers them all', async () => {
    const created = await apiClient(stack.app, OPERATOR_KEY).post('/admin/v1/tenants', { name: 'wide' });
    const noisy = apiClient(stack.app, created.body.apiKey);
    expect((await noisy.post('/v1/topics', { name: 'wide', partitions: 60 })).status).toBe(201);
    await noisy.post('/v1/topics/wide/records', { records: [{ value: 'x' }, { value: 'y' }] });
    watched = `${created.body.tenantId}#`;
    peak = 0;
    const answers = await Promise.all(Array.from({ length: 6 }, () => noisy.get('/v1/topics/wide')));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(DESCRIBE_READS_PER_TENANT);
    // Another tenant's produce goes through while the noisy tenant describes.
    const busy = Array.from({ length: 6 }, () => noisy.get('/v1/topics/wide'));
    expect((await stack.api.post('/v1/topics/long/records', { records: [{ value: 'q' }] })).status).toBe(200);
    await Promise.all(busy);
  });
});
