import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsPorts } from '#shared/adapters/aws';
import { DAY, HOUR, MINUTE } from '#shared/constants';
import { encodeBatch } from '#shared/domain/segment-codec';
import type { IndexEntry, PartitionRef } from '#shared/ports/log-index';
import { MaintenanceJob, type MaintenanceOptions } from '#shared/services/maintenance';
import { apiClient, OPERATOR_KEY, partitionRef, type Stack, startStack } from './harness';
import { usageShards } from './tenant-state';

let stack: Stack;
// Ahead of the real clock, so objects S3 stamps with the real time look as old as the test needs.
let now = Date.now();
const clock = () => now;
beforeAll(async () => {
  stack = await startStack({ clock });
});
afterAll(() => stack.close());

const ports = () => awsPorts(stack.emulators, stack.emulators.storage);
const job = (options: Partial<MaintenanceOptions> = {}) => new MaintenanceJob({ ...ports(), clock }, options);

const refOf = (topic: string, partition = 0) => partitionRef(stack, topic, partition);

const listAll = async (prefix: string) => {
  const keys: string[] = [];
  let startAfter: string | undefined;
  do {
    const page = await stack.deps.segments.list(prefix, startAfter ? { startAfter } : {});
    keys.push(...page.objects.map((o) => o.objectKey));
    startAfter = page.next;
  } while (startAfter);
  return keys;
};

const entries = async (ref: PartitionRef) => (await stack.deps.index.entriesFrom(ref, 0, 1000)).entries;
const objectKeys = (list: IndexEntry[]) =>
  list.flatMap((e) => (e.location.kind === 'object' ? [e.location.objectKey] : []));

const big = (tag: string) => ({ value: tag.padEnd(9000, '.') });

describe('maintenance job', () => {
  it('runs once when started twice at once (the lease), and a second run finds nothing left to do', async () => {
    await stack.api.post('/v1/topics', { name: 'twice', partitions: 1, retentionMs: -1 });
    for (let i = 0; i < 20; i++) await stack.api.post('/v1/topics/twice/records', { records: [{ value: `t${i}` }] });
    now += 30 * MINUTE;
    const [a, b] = await Promise.all([job({ minRunEntries: 4 }).run(), job({ minRunEntries: 4 }).run()]);
    expect([a.skipped, b.skipped].sort()).toEqual([false, true]);
    expect(a.segmentsWritten + b.segmentsWritten).toBe(1);
    const third = await job({ minRunEntries: 4 }).run();
    expect(third).toMatchObject({ skipped: false, segmentsWritten: 0, entriesRemoved: 0, coveredRemoved: 0 });
    const read = await stack.api.get('/v1/topics/twice/partitions/0/records');
    expect(read.body.records.map((r: any) => r.value)).toEqual(Array.from({ length: 20 }, (_, i) => `t${i}`));
  });

  it('deletes unreferenced objects after the grace period, and only those', async () => {
    await stack.api.post('/v1/topics', { name: 'orphans', partitions: 2, retentionMs: DAY });
    await stack.api.post('/v1/topics/orphans/records', {
      records: [
        { ...big('kept-0'), partition: 0 },
        { ...big('kept-1'), partition: 1 },
      ],
    });
    const topic = await stack.services.topics.get(stack.tenantId, 'orphans');
    const prefix = `2d/${topic.tenantId}/${topic.topicId}/`;
    // A produce that died after its PUT, before its commit.
    const orphan = `${prefix}2026/01/01/00/dead-writer.seg`;
    await stack.deps.segments.put(orphan, encodeBatch([{ key: null, value: null, headers: [], timestamp: 1 }]));
    expect(await listAll(prefix)).toHaveLength(2);

    // Within the grace period (S3 stamped both objects just now) nothing goes.
    await job({ orphanSweepIntervalMs: 0 }).run();
    expect(await listAll(prefix)).toHaveLength(2);

    now += 2 * HOUR;
    const report = await job({ orphanSweepIntervalMs: 0 }).run();
    expect(report.orphansDeleted).toBeGreaterThanOrEqual(1);
    const left = await listAll(prefix);
    expect(left).not.toContain(orphan);
    const referenced = [
      ...objectKeys(await entries(await refOf('orphans', 0))),
      ...objectKeys(await entries(await refOf('orphans', 1))),
    ];
    expect(referenced).toHaveLength(2);
    expect(left).toEqual([...new Set(referenced)]);
    const read = await stack.api.get('/v1/topics/orphans/partitions/1/records');
    expect(read.body.records[0].value).toMatch(/^kept-1/);
  });

  it('removes a deleted topic’s index entries, objects and tombstone, but not before the safety age', async () => {
    await stack.api.post('/v1/topics', { name: 'doomed', partitions: 2, retentionMs: HOUR });
    await stack.api.post('/v1/topics/doomed/records', {
      records: [
        { ...big('x'), partition: 0 },
        { ...big('y'), partition: 1 },
      ],
    });
    await stack.api.post('/v1/topics/doomed/records', { records: [{ value: 'small', partition: 0 }] });
    const refs = [await refOf('doomed', 0), await refOf('doomed', 1)];
    const topic = await stack.services.topics.get(stack.tenantId, 'doomed');
    const prefix = `1d/${topic.tenantId}/${topic.topicId}/`;
    expect(await listAll(prefix)).toHaveLength(1);
    expect((await stack.api.delete('/v1/topics/doomed')).status).toBe(204);
    expect(await ports().maintenance.listDeletedTopics(100)).toContainEqual(
      expect.objectContaining({ topicId: topic.topicId, partitions: 2 }),
    );
    // A topic of the same name, created again at once, is a new incarnation and is left alone.
    await stack.api.post('/v1/topics', { name: 'doomed', partitions: 1, retentionMs: HOUR });
    await stack.api.post('/v1/topics/doomed/records', { records: [{ value: 'reborn' }] });

    // Within the safety age a produce that read the topic before the delete may still append: wait.
    await job().run();
    expect(await entries(refs[0] as PartitionRef)).toHaveLength(2);
    expect(await listAll(prefix)).toHaveLength(1);

    now += 21 * MINUTE;
    const report = await job().run();
    expect(report.deletedTopicsCleaned).toBeGreaterThanOrEqual(1);
    expect(await entries(refs[0] as PartitionRef)).toEqual([]);
    expect(await entries(refs[1] as PartitionRef)).toEqual([]);
    expect(await listAll(prefix)).toEqual([]);
    expect((await ports().maintenance.listDeletedTopics(100)).map((t) => t.topicId)).not.toContain(topic.topicId);
    const reborn = await stack.api.get('/v1/topics/doomed/partitions/0/records');
    expect(reborn.body.records.map((r: any) => r.value)).toEqual(['reborn']);
  });

  it('moves objects to the longer class when retention is raised, before the old class could expire them', async () => {
    await stack.api.post('/v1/topics', { name: 'raised', partitions: 1, retentionMs: HOUR });
    await stack.api.post('/v1/topics/raised/records', { records: [big('r0')] });
    await stack.api.post('/v1/topics/raised/records', { records: [big('r1')] });
    const ref = await refOf('raised');
    expect(objectKeys(await entries(ref)).every((k) => k.startsWith('1d/'))).toBe(true);
    await stack.api.patch('/v1/topics/raised', { retentionMs: 30 * DAY });
    // Entries younger than the safety age wait (their objects have a day left); older ones and the last move.
    now += 30 * MINUTE;
    await job().run();
    const moved = await entries(ref);
    expect(moved).toHaveLength(2);
    expect(objectKeys(moved).every((k) => k.startsWith('31d/'))).toBe(true);
    // The 1d objects may now go (as orphans, or by the lifecycle stand-in): the records stay readable.
    now += 2 * DAY;
    await job({ expireObjects: true }).run();
    const topic = await stack.services.topics.get(stack.tenantId, 'raised');
    expect(await listAll(`1d/${topic.tenantId}/${topic.topicId}/`)).toEqual([]);
    const read = await stack.api.get('/v1/topics/raised/partitions/0/records');
    expect(read.body.records.map((r: any) => r.value.slice(0, 2))).toEqual(['r0', 'r1']);
  });

  it('stops on its budget and the next run continues where it stopped', async () => {
    for (const name of ['budget-a', 'budget-b', 'budget-c']) {
      await stack.api.post('/v1/topics', { name, partitions: 1, retentionMs: -1 });
      for (let i = 0; i < 8; i++) await stack.api.post(`/v1/topics/${name}/records`, { records: [{ value: `${i}` }] });
    }
    now += 30 * MINUTE;
    const small = { minRunEntries: 4, maxWritesPerRun: 1 };
    const first = await job(small).run();
    expect(first.complete).toBe(false);
    expect(first.cursor).toBeDefined();
    let runs = 1;
    const counts = async () =>
      Promise.all(['budget-a', 'budget-b', 'budget-c'].map(async (n) => (await entries(await refOf(n))).length));
    while ((await counts()).some((n) => n > 2) && runs < 30) {
      await job(small).run();
      runs += 1;
    }
    expect(await counts()).toEqual([2, 2, 2]);
    expect(runs).toBeGreaterThan(1);
  });

  it('deletes objects past their class in local mode, as S3 lifecycle rules do in AWS', async () => {
    const body = encodeBatch([{ key: null, value: null, headers: [], timestamp: 1 }]);
    await stack.deps.segments.put('1d/t-gone/topic/2026/01/01/00/a.seg', body);
    await stack.deps.segments.put('31d/t-gone/topic/2026/01/01/00/b.seg', body);
    await stack.deps.segments.put('forever/t-gone/topic/2026/01/01/00/c.seg', body);
    now = Math.max(now, Date.now()) + 2 * DAY;
    const withoutExpiry = await job().run();
    expect(withoutExpiry.expiredObjectsDeleted).toBe(0);
    expect(await listAll('1d/t-gone/')).toHaveLength(1);
    const report = await job({ expireObjects: true }).run();
    expect(report.expiredObjectsDeleted).toBeGreaterThanOrEqual(1);
    expect(await listAll('1d/t-gone/')).toEqual([]);
    expect(await listAll('31d/t-gone/')).toHaveLength(1);
    expect(await listAll('forever/t-gone/')).toHaveLength(1);
  });

  it('lists objects by prefix in pages and deletes them (the segment store port)', async () => {
    const body = encodeBatch([{ key: null, value: null, headers: [], timestamp: 1 }]);
    const keys = ['a', 'b', 'c', 'd', 'e'].map((k) => `8d/t-list/topic/2026/01/01/00/${k}.seg`);
    for (const key of keys) await stack.deps.segments.put(key, body);
    const first = await stack.deps.segments.list('8d/t-list/', { limit: 2 });
    expect(first.objects.map((o) => o.objectKey)).toEqual(keys.slice(0, 2));
    expect(first.objects[0]?.size).toBe(body.byteLength);
    const second = await stack.deps.segments.list('8d/t-list/', { limit: 2, startAfter: first.next as string });
    expect(second.objects.map((o) => o.objectKey)).toEqual(keys.slice(2, 4));
    const last = await stack.deps.segments.list('8d/t-list/', { limit: 2, startAfter: second.next as string });
    expect(last).toEqual({ objects: [expect.objectContaining({ objectKey: keys[4] })] });
    await stack.deps.segments.delete([...keys.slice(0, 3), '8d/t-list/missing.seg']);
    expect(await listAll('8d/t-list/')).toEqual(keys.slice(3));
    await expect(stack.deps.segments.getRange(keys[0] as string, 0, 4)).rejects.toThrow(/does not exist/);
  });

  it('removes a deleted tenant’s topics, data, remaining items and tombstone', async () => {
    const operator = apiClient(stack.app, OPERATOR_KEY);
    const created = await operator.post('/admin/v1/tenants', { name: 'leaving' });
    expect(created.status).toBe(201);
    const { tenantId, apiKey } = created.body;
    const leaving = apiClient(stack.app, apiKey);
    expect((await leaving.post('/v1/topics', { name: 'theirs', partitions: 1, retentionMs: -1 })).status).toBe(201);
    await leaving.post('/v1/topics/theirs/records', { records: [big('gone')] });
    const topic = await stack.deps.metadata.getTopic(tenantId, 'theirs');
    const ref = { tenantId, topicId: topic?.topicId as string, partition: 0 };
    expect(await entries(ref)).toHaveLength(1);
    expect(await listAll(`forever/${tenantId}/`)).toHaveLength(1);

    expect((await operator.delete(`/admin/v1/tenants/${tenantId}`)).status).toBe(204);
    // First run: the topic becomes a topic tombstone; its data waits for the safety age.
    await job().run();
    expect(await stack.deps.metadata.listTopics(tenantId)).toEqual([]);
    expect(await entries(ref)).toHaveLength(1);
    now += 21 * MINUTE;
    for (let i = 0; i < 2; i++) await job().run();
    expect(await entries(ref)).toEqual([]);
    expect(await listAll(`forever/${tenantId}/`)).toEqual([]);
    expect((await stack.deps.metadata.listTenantTombstones()).map((t) => t.tenantId)).not.toContain(tenantId);
    expect(await stack.deps.metadata.listApiKeys(tenantId)).toEqual([]);
  });

  it('gives trimmed record bytes back to the tenant’s storage count', async () => {
    const operator = apiClient(stack.app, OPERATOR_KEY);
    const { tenantId, apiKey } = (await operator.post('/admin/v1/tenants', { name: 'metered' })).body;
    const metered = apiClient(stack.app, apiKey);
    await metered.post('/v1/topics', { name: 'short', partitions: 1, retentionMs: MINUTE });
    for (let i = 0; i < 3; i++)
      await metered.post('/v1/topics/short/records', { records: [{ value: 'x'.repeat(100) }] });
    // The storage count is the sum over the tenant's produce usage shards.
    const stored = async () => {
      await stack.services.quotas.drain(); // usage writes land beside the answers
      const shards = await usageShards(stack.emulators, tenantId, 'produce');
      return shards.reduce((n, i) => n + Number(i.storedBytes ?? 0), 0);
    };
    expect(await stored()).toBe(300);
    now += HOUR;
    await job().run();
    // Two entries trimmed, the last one turned into a marker: nothing of it counts any more.
    expect(await stored()).toBe(0);
    await job().run();
    expect(await stored()).toBe(0);
  });
});
