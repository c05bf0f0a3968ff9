import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsPorts } from '#shared/adapters/aws';
import { HOUR, MINUTE } from '#shared/constants';
import { MaintenanceJob } from '#shared/services/maintenance';
import { partitionRef, type Stack, startStack } from './harness';

let stack: Stack;
let now = Date.now();
const clock = () => now;
beforeAll(async () => {
  stack = await startStack({ clock });
});
afterAll(() => stack.close());

const job = () => new MaintenanceJob({ ...awsPorts(stack.emulators, stack.emulators.storage), clock });

const ref = (topic: string, partition = 0) => partitionRef(stack, topic, partition);

const fetchAll = async (topic: string, offset: number | string = 'earliest') =>
  stack.api.get(`/v1/topics/${topic}/partitions/0/records?offset=${offset}&maxRecords=1000`);

describe('retention', () => {
  it('is exact at read time and counts from append time, whatever the producer timestamps', async () => {
    const { api } = stack;
    expect((await api.post('/v1/topics', { name: 'clicks', partitions: 1, retentionMs: HOUR })).status).toBe(201);
    const t0 = now;
    const first = await api.post('/v1/topics/clicks/records', {
      records: [
        { value: 'from-1970', timestamp: 1 },
        { value: 'from-2100', timestamp: 4_102_444_800_000 },
        { value: 'no-timestamp' },
      ],
    });
    expect(first.body.offsets.map((o: any) => o.offset)).toEqual([0, 1, 2]);
    now = t0 + 30 * MINUTE;
    await api.post('/v1/topics/clicks/records', { records: [{ value: 'later-1' }, { value: 'later-2' }] });

    // At exactly the retention age every record is there, far-past and far-future timestamps alike.
    now = t0 + HOUR;
    let fetched = await fetchAll('clicks');
    expect(fetched.body.records.map((r: any) => r.value)).toEqual([
      'from-1970',
      'from-2100',
      'no-timestamp',
      'later-1',
      'later-2',
    ]);
    expect(fetched.body.records[0].timestamp).toBe(1);
    expect(fetched.body.logStartOffset).toBe(0);

    // One millisecond later they are all gone together; the later batch stays.
    now = t0 + HOUR + 1;
    fetched = await fetchAll('clicks');
    expect(fetched.body).toMatchObject({ logStartOffset: 3, highWatermark: 5, nextOffset: 5 });
    expect(fetched.body.records.map((r: any) => r.offset)).toEqual([3, 4]);
    const below = await fetchAll('clicks', 2);
    expect(below.status).toBe(416);
    expect(below.body).toMatchObject({ code: 'offset_out_of_range', logStartOffset: 3, highWatermark: 5 });
    const described = await api.get('/v1/topics/clicks');
    expect(described.body.partitionStates[0]).toMatchObject({ logStartOffset: 3, highWatermark: 5, segments: 1 });
    expect(described.body.partitionStates[0].retainedBytes).toBe('later-1'.length + 'later-2'.length);

    // Everything expired: the log is empty at the high watermark and appends continue the offsets.
    now = t0 + 90 * MINUTE + 1;
    fetched = await fetchAll('clicks');
    expect(fetched.body).toMatchObject({ records: [], logStartOffset: 5, highWatermark: 5, nextOffset: 5 });
    const next = await api.post('/v1/topics/clicks/records', { records: [{ value: 'after' }] });
    expect(next.body.offsets[0].offset).toBe(5);
    expect((await fetchAll('clicks')).body.records.map((r: any) => r.value)).toEqual(['after']);
  });

  it('moves the log start offset when PATCH lowers retention, and back when it raises it before trimming', async () => {
    const { api } = stack;
    await api.post('/v1/topics', { name: 'patched', partitions: 1, retentionMs: -1 });
    const t0 = now;
    await api.post('/v1/topics/patched/records', { records: [{ value: 'a' }, { value: 'b' }] });
    now = t0 + 10 * MINUTE;
    await api.post('/v1/topics/patched/records', { records: [{ value: 'c' }] });
    now = t0 + 15 * MINUTE;
    expect((await api.patch('/v1/topics/patched', { retentionMs: 7 * MINUTE })).status).toBe(200);
    let fetched = await fetchAll('patched');
    expect(fetched.body).toMatchObject({ logStartOffset: 2, highWatermark: 3 });
    expect(fetched.body.records.map((r: any) => r.value)).toEqual(['c']);
    expect((await fetchAll('patched', 0)).body).toMatchObject({ code: 'offset_out_of_range', logStartOffset: 2 });
    // Not trimmed yet (younger than the safety age): raising retention brings it back.
    await api.patch('/v1/topics/patched', { retentionMs: HOUR });
    fetched = await fetchAll('patched');
    expect(fetched.body.records.map((r: any) => r.value)).toEqual(['a', 'b', 'c']);
  });

  it('trims expired entries but never the last one, which becomes a marker that keeps the next offset', async () => {
    const { api, deps } = stack;
    await api.post('/v1/topics', { name: 'trimmed', partitions: 1, retentionMs: 5 * MINUTE });
    const t0 = now;
    for (let i = 0; i < 5; i++) {
      now = t0 + i * MINUTE;
      await api.post('/v1/topics/trimmed/records', { records: [{ value: `v${i}` }, { value: `w${i}` }] });
    }
    const partition = await ref('trimmed');
    expect((await deps.index.entriesFrom(partition, 0, 100)).entries).toHaveLength(5);

    // Within the safety age nothing is deleted even though everything is past retention;
    // the last entry already becomes a marker (replacing it deletes no key).
    now = t0 + 10 * MINUTE;
    await job().run();
    const young = (await deps.index.entriesFrom(partition, 0, 100)).entries;
    expect(young).toHaveLength(5);
    expect(young.map((e) => e.location.kind)).toEqual(['inline', 'inline', 'inline', 'inline', 'expired']);

    now = t0 + 2 * HOUR;
    await job().run();
    const left = (await deps.index.entriesFrom(partition, 0, 100)).entries;
    expect(left).toHaveLength(1);
    expect(left[0]).toMatchObject({ baseOffset: 8, recordCount: 2, location: { kind: 'expired' } });
    expect((await fetchAll('trimmed')).body).toMatchObject({ records: [], logStartOffset: 10, highWatermark: 10 });

    // A second run finds nothing to do; the marker stays.
    await job().run();
    expect(await deps.index.last(partition)).toMatchObject({ baseOffset: 8, location: { kind: 'expired' } });

    // Appends continue after the marker; even raising retention does not bring marked records back.
    const appended = await api.post('/v1/topics/trimmed/records', { records: [{ value: 'new' }] });
    expect(appended.body.offsets[0].offset).toBe(10);
    await api.patch('/v1/topics/trimmed', { retentionMs: -1 });
    const fetched = await fetchAll('trimmed');
    expect(fetched.body).toMatchObject({ logStartOffset: 10, highWatermark: 11 });
    expect(fetched.body.records.map((r: any) => r.value)).toEqual(['new']);

    // The marker is no longer last: the next run deletes it (it is older than the safety age).
    await api.patch('/v1/topics/trimmed', { retentionMs: 5 * MINUTE });
    now += 30 * MINUTE;
    await job().run();
    const remaining = (await deps.index.entriesFrom(partition, 0, 100)).entries;
    expect(remaining.map((e) => e.baseOffset)).toEqual([10]);
    expect(remaining[0]?.location.kind).toBe('expired');
  });
});
