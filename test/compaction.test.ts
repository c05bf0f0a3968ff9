import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsPorts } from '#shared/adapters/aws';
import { HOUR, KiB, MINUTE } from '#shared/constants';
import type { LogIndex, PartitionRef } from '#shared/ports/log-index';
import type { SegmentStore } from '#shared/ports/segment-store';
import { COMPACTION_DEFAULTS, emptyWork, PartitionCompactor } from '#shared/services/compaction';
import { MaintenanceJob, type MaintenanceOptions } from '#shared/services/maintenance';
import { PartitionReader } from '#shared/services/partition-reader';
import { allEntries, partitionRef, type Stack, startStack } from './harness';

let stack: Stack;
let now = Date.now();
const clock = () => now;
beforeAll(async () => {
  stack = await startStack({ clock });
});
afterAll(() => stack.close());

const SMALL_SEGMENTS: Partial<MaintenanceOptions> = { targetBytes: 16 * KiB, minRunEntries: 4 };

const job = (options: Partial<MaintenanceOptions> = {}, index?: LogIndex) => {
  const ports = awsPorts(stack.emulators, stack.emulators.storage);
  return new MaintenanceJob({ ...ports, ...(index ? { index } : {}), clock }, { ...SMALL_SEGMENTS, ...options });
};

const refOf = (topic: string, partition = 0) => partitionRef(stack, topic, partition);

/** Compacts one partition only (the job would visit every topic of the stack). */
const compactPartition = async (
  ref: PartitionRef,
  topicName: string,
  options: Partial<MaintenanceOptions>,
  index: LogIndex = stack.deps.index,
) => {
  const topic = await stack.services.topics.get(stack.tenantId, topicName);
  const last = await stack.deps.index.last(ref);
  if (!last) throw new Error('empty partition');
  const reader = new PartitionReader({ index, segments: stack.deps.segments, clock });
  const compactor = new PartitionCompactor({
    index,
    segments: stack.deps.segments,
    reader,
    options: { ...COMPACTION_DEFAULTS, ...SMALL_SEGMENTS, ...options },
  });
  const work = emptyWork();
  await compactor.compact({ ref, topic, last, from: 0, now, maxEntries: 5000, work });
  return work;
};

/** What was acknowledged: offset → value, per partition. */
type Acked = Map<number, string>[];

/** Produces `count` requests to `partition`; every 7th is large enough to go to S3, the rest stay inline. */
const produce = async (topic: string, partition: number, count: number, acked: Acked, tag: string) => {
  for (let i = 0; i < count; i++) {
    const size = i % 7 === 3 ? 9000 : 150;
    const records = [0, 1, 2].slice(0, 1 + (i % 3)).map((j) => ({
      partition,
      value: `${tag}-${i}-${j}-`.padEnd(size, 'x'),
    }));
    const res = await stack.api.post(`/v1/topics/${topic}/records`, { records });
    expect(res.status).toBe(200);
    res.body.offsets.forEach((o: { offset: number }, j: number) => {
      acked[partition]?.set(o.offset, records[j]?.value as string);
    });
  }
};

/** Reads the whole partition through the API in small fetches, checking order and density. */
const readAll = async (topic: string, partition: number, maxRecords = 37) => {
  const out: { offset: number; value: string }[] = [];
  let offset = 0;
  for (;;) {
    const res = await stack.api.get(
      `/v1/topics/${topic}/partitions/${partition}/records?offset=${offset}&maxRecords=${maxRecords}`,
    );
    expect(res.status).toBe(200);
    for (const r of res.body.records) out.push({ offset: r.offset, value: r.value });
    if (res.body.nextOffset >= res.body.highWatermark || res.body.records.length === 0) break;
    offset = res.body.nextOffset;
  }
  return out;
};

const expectExactly = (read: { offset: number; value: string }[], acked: Map<number, string>) => {
  expect(read.map((r) => r.offset)).toEqual([...acked.keys()].sort((a, b) => a - b));
  for (const r of read) expect(r.value).toBe(acked.get(r.offset));
};

const entries = (ref: PartitionRef) => allEntries(stack.deps.index, ref);

describe('compaction', () => {
  it('folds small inline and object batches into segments and reads the same records with fewer GETs', async () => {
    await stack.api.post('/v1/topics', { name: 'history', partitions: 1, retentionMs: -1 });
    const acked: Acked = [new Map()];
    await produce('history', 0, 60, acked, 'h');
    const ref = await refOf('history');
    const before = await entries(ref);
    expect(before).toHaveLength(60);

    stack.calls.reset();
    expectExactly(await readAll('history', 0, 10_000), acked[0] as Map<number, string>);
    const getsBefore = stack.calls.get('S3.GetObject');

    now += 30 * MINUTE;
    // Produce objects here are 9-27 KB: small against a 64 KB target, so they are folded too.
    const report = await job({ targetBytes: 64 * KiB }).run();
    expect(report.segmentsWritten).toBeGreaterThan(0);
    const after = await entries(ref);
    expect(after.length).toBeLessThan(before.length / 4);
    // The last entry is never folded: it carries the next offset.
    expect(after.at(-1)).toEqual(before.at(-1));
    const compacted = after.find((e) => e.batches);
    expect(compacted?.location.kind).toBe('object');

    stack.calls.reset();
    expectExactly(await readAll('history', 0, 10_000), acked[0] as Map<number, string>);
    expect(stack.calls.get('S3.GetObject')).toBeLessThan(getsBefore);
    // Small fetches starting inside a compacted entry read only the batches they need.
    expectExactly(await readAll('history', 0, 5), acked[0] as Map<number, string>);
    const inside = await stack.api.get('/v1/topics/history/partitions/0/records?offset=57&maxRecords=3');
    expect(inside.body.records.map((r: any) => r.offset)).toEqual([57, 58, 59]);

    // Appends continue; compacting again folds nothing twice.
    await produce('history', 0, 5, acked, 'h2');
    now += 30 * MINUTE;
    await job().run();
    expectExactly(await readAll('history', 0), acked[0] as Map<number, string>);
  });

  it('loses, duplicates and reorders nothing under concurrent produce, fetch and two compactions', async () => {
    await stack.api.post('/v1/topics', { name: 'busy', partitions: 2, retentionMs: -1 });
    const acked: Acked = [new Map(), new Map()];
    await Promise.all([produce('busy', 0, 80, acked, 'a'), produce('busy', 1, 80, acked, 'b')]);
    now += 30 * MINUTE;

    const seen: { offset: number; value: string }[][] = [];
    let producing = true;
    const consumer = async (partition: number) => {
      while (producing) seen.push(await readAll('busy', partition, 23));
    };
    const producers = Promise.all([produce('busy', 0, 40, acked, 'c'), produce('busy', 1, 40, acked, 'd')]).finally(
      () => {
        producing = false;
      },
    );
    // Two runs at once without the lease: only the conditional writes keep them apart.
    const [r1, r2] = await Promise.all([
      job({ useLease: false }).run(),
      job({ useLease: false }).run(),
      consumer(0),
      consumer(1),
      producers,
    ]);
    expect(r1.segmentsWritten + r2.segmentsWritten).toBeGreaterThan(0);
    expect(seen.length).toBeGreaterThan(1);
    // Every pass a consumer made saw a dense, ordered prefix of what was acknowledged.
    for (const pass of seen) {
      const first = pass[0];
      if (!first) continue;
      const partition = first.value.startsWith('a-') || first.value.startsWith('c-') ? 0 : 1;
      pass.forEach((r, i) => {
        expect(r.offset).toBe(i);
        const value = acked[partition]?.get(r.offset);
        if (value !== undefined) expect(r.value).toBe(value);
      });
    }
    for (const partition of [0, 1]) {
      expectExactly(await readAll('busy', partition), acked[partition] as Map<number, string>);
    }
  }, 90_000);

  it('lets a reader that paged the index halfway through a compaction see every record once', async () => {
    await stack.api.post('/v1/topics', { name: 'paged', partitions: 1, retentionMs: -1 });
    const ref = await refOf('paged');
    for (let i = 0; i < 150; i++) {
      await stack.api.post('/v1/topics/paged/records', { records: [{ value: `p${i}` }] });
    }
    now += 30 * MINUTE;
    // An index that runs a whole compaction after the reader's first page.
    let calls = 0;
    const real = stack.deps.index;
    const pausing: LogIndex = Object.create(real);
    pausing.entriesFrom = async (p, from, limit) => {
      calls += 1;
      if (calls === 2) await compactPartition(ref, 'paged', { targetBytes: 1 * KiB });
      return real.entriesFrom(p, from, limit);
    };
    const reader = new PartitionReader({ index: pausing, segments: stack.deps.segments, clock });
    const read = await reader.read(ref, 0, { maxRecords: 10_000, maxBytes: 10_000_000 }, -1);
    expect(calls).toBeGreaterThanOrEqual(2);
    expect((await entries(ref)).length).toBeLessThan(150);
    expect(read.records.map((r) => r.offset)).toEqual(Array.from({ length: 150 }, (_, i) => i));
    expect(read.records.map((r) => new TextDecoder().decode(r.value as Uint8Array))).toEqual(
      Array.from({ length: 150 }, (_, i) => `p${i}`),
    );
  });

  it('survives a compaction that stops between its writes, and the next run finishes it', async () => {
    await stack.api.post('/v1/topics', { name: 'crashy', partitions: 1, retentionMs: -1 });
    const acked: Acked = [new Map()];
    await produce('crashy', 0, 30, acked, 'k');
    const ref = await refOf('crashy');
    now += 30 * MINUTE;
    // The job dies after its third delete: the compacted entry is written, some folded ones remain.
    let removes = 0;
    const real = stack.deps.index;
    const dying: LogIndex = Object.create(real);
    dying.remove = async (p, e) => {
      if (++removes > 3) throw new Error('killed');
      return real.remove(p, e);
    };
    await expect(compactPartition(ref, 'crashy', { targetBytes: 1024 * KiB }, dying)).rejects.toThrow('killed');
    const halfway = await entries(ref);
    expect(halfway.length).toBeGreaterThan(3);
    expect(halfway[0]?.recordCount).toBeGreaterThan(3);
    expectExactly(await readAll('crashy', 0), acked[0] as Map<number, string>);
    const described = await stack.api.get('/v1/topics/crashy');
    const bytes = [...(acked[0] as Map<number, string>).values()].reduce((n, v) => n + v.length, 0);
    expect(described.body.partitionStates[0].retainedBytes).toBe(bytes);

    await job({ targetBytes: 1024 * KiB }).run();
    const finished = await entries(ref);
    expect(finished).toHaveLength(2);
    expectExactly(await readAll('crashy', 0), acked[0] as Map<number, string>);
    expect((await stack.api.get('/v1/topics/crashy')).body.partitionStates[0]).toMatchObject({
      segments: 2,
      retainedBytes: bytes,
    });
  });

  it('keeps retention exact inside a compacted segment', async () => {
    await stack.api.post('/v1/topics', { name: 'aging', partitions: 1, retentionMs: HOUR });
    const t0 = now;
    for (let i = 0; i < 10; i++) {
      now = t0 + i * MINUTE;
      await stack.api.post('/v1/topics/aging/records', { records: [{ value: `a${i}` }, { value: `b${i}` }] });
    }
    now = t0 + 40 * MINUTE;
    await job().run();
    const ref = await refOf('aging');
    const folded = await entries(ref);
    expect(folded).toHaveLength(2);
    expect(folded[0]).toMatchObject({ baseOffset: 0, recordCount: 18 });

    // Batches appended at t0 .. t0+3min are past retention; the one from t0+4min is the first kept.
    now = t0 + HOUR + 3 * MINUTE + 1;
    const fetched = await stack.api.get('/v1/topics/aging/partitions/0/records');
    expect(fetched.body.logStartOffset).toBe(8);
    expect(fetched.body.records.map((r: any) => r.value)).toEqual([
      'a4',
      'b4',
      'a5',
      'b5',
      'a6',
      'b6',
      'a7',
      'b7',
      'a8',
      'b8',
      'a9',
      'b9',
    ]);
    expect((await stack.api.get('/v1/topics/aging/partitions/0/records?offset=7')).status).toBe(416);
    // The job cannot drop the partly expired entry yet.
    await job().run();
    expect((await entries(ref))[0]).toMatchObject({ baseOffset: 0, recordCount: 18 });
    // Once all of it is past retention, its bytes go; the entry stays as a data-less expiry
    // marker in front of the first retained one (a trimmed head, not a hole at the start).
    now = t0 + HOUR + 9 * MINUTE;
    await job().run();
    expect((await entries(ref)).map((e) => [e.baseOffset, e.location.kind])).toEqual([
      [0, 'expired'],
      [18, 'inline'],
    ]);
    expect((await stack.api.get('/v1/topics/aging/partitions/0/records')).body.logStartOffset).toBe(18);
  });

  it('starts a read over from the index when the objects it was about to read were swept', async () => {
    await stack.api.post('/v1/topics', { name: 'swept', partitions: 1, retentionMs: -1 });
    const values = Array.from({ length: 6 }, (_, i) => `s${i}-`.padEnd(9000, 's'));
    for (const value of values) await stack.api.post('/v1/topics/swept/records', { records: [{ value }] });
    const ref = await refOf('swept');
    const original = await entries(ref);
    now += 30 * MINUTE;
    // After the reader has read the index: compaction, then the sweep deletes the replaced objects.
    let swept = false;
    const real = stack.deps.segments;
    const sweeping: SegmentStore = Object.create(real);
    sweeping.getRange = async (key, start, length) => {
      if (!swept) {
        swept = true;
        await compactPartition(ref, 'swept', { targetBytes: 1024 * KiB, minRunEntries: 2 });
        const replaced = original
          .slice(0, -1)
          .flatMap((e) => (e.location.kind === 'object' ? [e.location.objectKey] : []));
        await real.delete(replaced);
      }
      return real.getRange(key, start, length);
    };
    const reader = new PartitionReader({ index: stack.deps.index, segments: sweeping, clock });
    const read = await reader.read(ref, 0, { maxRecords: 100, maxBytes: 10_000_000 }, -1);
    expect(swept).toBe(true);
    expect(read.records.map((r) => new TextDecoder().decode(r.value as Uint8Array))).toEqual(values);
  });
});
