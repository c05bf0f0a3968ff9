import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsPorts } from '#shared/adapters/aws';
import { HOUR, KiB } from '#shared/constants';
import { MaintenanceJob } from '#shared/services/maintenance';
import { FaultInjector } from './faults/fault-injector';
import { type Stack, startStack } from './harness';

/**
 * An idempotent request whose writer died after committing, and whose entry compaction
 * then folded into a segment before the client retried: the retry must still find the
 * commit (the writer id survives compaction) and append nothing.
 */
let now = Date.now();
const clock = () => now;
let stack: Stack;
let faults: FaultInjector;
beforeAll(async () => {
  faults = new FaultInjector({ seed: 3, rates: {} });
  stack = await startStack({
    clock,
    exactlyOnce: { timing: { leaseMs: 600, settleMs: 200 } },
    attach: (clients) => faults.attach(clients),
  });
  await stack.api.post('/v1/topics', { name: 'folded', partitions: 1 });
});
afterAll(() => stack.close());

const produce = (value: string, key?: string) =>
  stack.api.request(
    'POST',
    '/v1/topics/folded/records',
    { records: [{ value }] },
    key === undefined ? {} : { 'Idempotency-Key': key },
  );
const highWatermark = async () => (await stack.api.get('/v1/topics/folded')).body.partitionStates[0].highWatermark;

describe('idempotent recovery after compaction', () => {
  it('finds a dead writer’s commit inside a compacted segment and appends nothing', async () => {
    for (let i = 0; i < 4; i++) expect((await produce(`before-${i}`)).status).toBe(200);
    const crashedAt = await highWatermark();
    const crashed = faults.crashed.then(() => 'crashed' as const);
    const outcome = await Promise.race([
      crashed,
      faults.runRequest({ crashAfter: { operation: 'PutItem', table: 'log', count: 1 } }, () =>
        produce('the-one', 'folded-key'),
      ),
    ]);
    expect(outcome).toBe('crashed');
    for (let i = 0; i < 4; i++) expect((await produce(`after-${i}`)).status).toBe(200);
    const end = await highWatermark();
    expect(end).toBe(crashedAt + 5);

    // An hour later: the lease is long gone and the entries are old enough to fold.
    now += HOUR;
    const ports = awsPorts(stack.emulators, stack.emulators.storage);
    await new MaintenanceJob({ ...ports, clock }, { targetBytes: 16 * KiB, minRunEntries: 4 }).run({
      maxRunMs: 60_000,
      leaseMs: 120_000,
    });
    const topic = await stack.services.topics.get(stack.tenantId, 'folded');
    const covering = await stack.deps.index.entryAtOrBefore(
      { tenantId: topic.tenantId, topicId: topic.topicId, partition: 0 },
      crashedAt,
    );
    // The crashed request's entry really was folded into a larger one.
    expect(covering?.baseOffset).toBeLessThan(crashedAt);
    expect(covering?.batches?.length).toBeGreaterThan(1);

    const retried = await produce('the-one', 'folded-key');
    expect(retried.status).toBe(200);
    expect(retried.body.offsets[0].offset).toBe(crashedAt);
    expect(await highWatermark()).toBe(end);
    const read = await stack.api.get('/v1/topics/folded/partitions/0/records?offset=0&maxRecords=100');
    expect(read.body.records.filter((r: { value: string }) => r.value === 'the-one')).toHaveLength(1);
  });
});
