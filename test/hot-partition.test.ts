import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GAP_BOUND_MS } from '#shared/constants';
import { encodeBatch } from '#shared/domain/segment-codec';
import { type IndexEntry, OffsetTakenError } from '#shared/ports/log-index';
import { gapMarker } from '#shared/services/gaps';
import { PartitionLog } from '#shared/services/partition-log';
import { partitionRef, type Stack, startStack } from './harness';

/**
 * The offset counter and the gap rule on the real adapter (dynalite), through the HTTP API:
 * a writer that dies between its reservation and its put leaves a hole; readers stop there
 * (never skipping) until the next entry is older than the gap bound, then fence the hole with
 * gap markers and go on, and the dead writer's late put fails. The clock is injected.
 */
let stack: Stack;
let now = 1_000_000;
beforeAll(async () => {
  stack = await startStack({ clock: () => now });
});
afterAll(() => stack.close());

const fetchFrom = (topic: string, offset: number) =>
  stack.api.get(`/v1/topics/${topic}/partitions/0/records?offset=${offset}&maxRecords=100`);

const lateEntry = (baseOffset: number): IndexEntry => ({
  baseOffset,
  recordCount: 1,
  appendTime: now,
  maxTimestamp: now,
  sizeBytes: 4,
  location: { kind: 'inline', data: new Uint8Array([1, 2, 3]) },
  writerId: 'late',
});

describe('hot partition: reserved offsets and gaps', () => {
  it('passes a dead reservation only once marked (k = 1), and fences the late put', async () => {
    expect((await stack.api.post('/v1/topics', { name: 'gap-one', partitions: 1 })).status).toBe(201);
    const ref = await partitionRef(stack, 'gap-one', 0);
    // Offsets come from the counter from the first append on (without it, the tail era: see below).
    await stack.deps.index.initCounter(ref, { next: 0, slot: 0 });
    expect((await stack.api.post('/v1/topics/gap-one/records', { records: [{ value: 'a' }] })).body.offsets).toEqual([
      { partition: 0, offset: 0, timestamp: now },
    ]);
    // A writer reserves [1, 3) and dies before its put.
    expect(await stack.deps.index.reserve(ref, 2)).toMatchObject({ baseOffset: 1 });
    const b = await stack.api.post('/v1/topics/gap-one/records', { records: [{ value: 'b' }] });
    expect(b.body.offsets[0].offset).toBe(3);

    // Within the gap bound: nothing at or beyond the hole, however high the watermark.
    now += GAP_BOUND_MS - 1;
    const waiting = await fetchFrom('gap-one', 1);
    expect(waiting.body).toMatchObject({ records: [], nextOffset: 1, highWatermark: 4 });
    const fromZero = await fetchFrom('gap-one', 0);
    expect(fromZero.body.records.map((r: any) => r.value)).toEqual(['a']);
    expect(fromZero.body.nextOffset).toBe(1);

    // Past it: the reader marks the hole and goes on.
    now += 1;
    const passed = await fetchFrom('gap-one', 1);
    expect(passed.body.records.map((r: any) => [r.offset, r.value])).toEqual([[3, 'b']]);
    expect(passed.body.nextOffset).toBe(4);
    const { entries } = await stack.deps.index.entriesFrom(ref, 0, 10);
    expect(entries.map((e) => [e.baseOffset, e.recordCount, e.location.kind])).toEqual([
      [0, 1, 'inline'],
      [1, 2, 'gap'],
      [3, 1, 'inline'],
    ]);
    // The dead writer's late put fails: it can never be acknowledged.
    await expect(stack.deps.index.append(ref, lateEntry(1))).rejects.toBeInstanceOf(OffsetTakenError);
  });

  it('fences every offset of a hole of several reservations (k ≥ 2) before covering it', async () => {
    expect((await stack.api.post('/v1/topics', { name: 'gap-many', partitions: 1 })).status).toBe(201);
    const ref = await partitionRef(stack, 'gap-many', 0);
    // Offsets come from the counter from the first append on (without it, the tail era: see below).
    await stack.deps.index.initCounter(ref, { next: 0, slot: 0 });
    await stack.api.post('/v1/topics/gap-many/records', { records: [{ value: 'a' }] });
    // Two writers reserve [1, 2) and [2, 4) and die; a third commits at 4.
    await stack.deps.index.reserve(ref, 1);
    await stack.deps.index.reserve(ref, 2);
    const c = await stack.api.post('/v1/topics/gap-many/records', { records: [{ value: 'c' }] });
    expect(c.body.offsets[0].offset).toBe(4);
    expect((await fetchFrom('gap-many', 1)).body.records).toEqual([]);

    now += GAP_BOUND_MS;
    // A read that has records stops at the hole and answers them; the next one marks it.
    const before = await fetchFrom('gap-many', 0);
    expect(before.body.records.map((r: any) => r.value)).toEqual(['a']);
    expect(before.body.nextOffset).toBe(1);
    const passed = await fetchFrom('gap-many', 1);
    expect(passed.body.records.map((r: any) => [r.offset, r.value])).toEqual([[4, 'c']]);
    const { entries } = await stack.deps.index.entriesFrom(ref, 0, 10);
    expect(entries.map((e) => [e.baseOffset, e.recordCount, e.location.kind, e.holeStart])).toEqual([
      [0, 1, 'inline', undefined],
      [1, 3, 'gap', undefined],
      [2, 1, 'gap', 1],
      [3, 1, 'gap', 1],
      [4, 1, 'inline', undefined],
    ]);
    // Whichever offset a dead writer's reservation started at, its late put fails.
    for (const offset of [1, 2, 3]) {
      await expect(stack.deps.index.append(ref, lateEntry(offset))).rejects.toBeInstanceOf(OffsetTakenError);
    }
  });

  it('waits at a hole at the partition start, and tells it from a trimmed head', async () => {
    expect((await stack.api.post('/v1/topics', { name: 'gap-head', partitions: 1 })).status).toBe(201);
    const ref = await partitionRef(stack, 'gap-head', 0);
    // The first writer creates the counter, reserves [0, 1) and dies; the next commits at 1.
    await stack.deps.index.initCounter(ref, { next: 0, slot: 0 });
    await stack.deps.index.reserve(ref, 1);
    await stack.api.post('/v1/topics/gap-head/records', { records: [{ value: 'x' }] });
    // The hole belongs to the log: it starts the log, and a reader from the earliest offset waits.
    const early = await fetchFrom('gap-head', 0);
    expect(early.body).toMatchObject({ records: [], nextOffset: 0, logStartOffset: 0, highWatermark: 2 });
    const earliest = await stack.api.get('/v1/topics/gap-head/partitions/0/records?offset=earliest');
    expect(earliest.body).toMatchObject({ records: [], nextOffset: 0 });
    now += GAP_BOUND_MS;
    const passed = await fetchFrom('gap-head', 0);
    expect(passed.body.records.map((r: any) => r.offset)).toEqual([1]);
    await expect(stack.deps.index.append(ref, lateEntry(0))).rejects.toBeInstanceOf(OffsetTakenError);
  });

  it('passes a trimmed head at once: the counter floor says the range was trimmed, not reserved', async () => {
    expect((await stack.api.post('/v1/topics', { name: 'trim-head', partitions: 1 })).status).toBe(201);
    const ref = await partitionRef(stack, 'trim-head', 0);
    await stack.api.post('/v1/topics/trim-head/records', { records: [{ value: 'old' }] });
    await stack.api.post('/v1/topics/trim-head/records', { records: [{ value: 'new' }] });
    // As retention does: the floor first, then the entry below it.
    await stack.deps.index.raiseFloor(ref, 1);
    const [old] = (await stack.deps.index.entriesFrom(ref, 0, 1)).entries;
    expect(await stack.deps.index.remove(ref, old as IndexEntry)).toBe(true);
    const fetched = await stack.api.get('/v1/topics/trim-head/partitions/0/records?offset=earliest');
    expect(fetched.body).toMatchObject({ logStartOffset: 1, nextOffset: 2 });
    expect(fetched.body.records.map((r: any) => r.value)).toEqual(['new']);
  });
});

describe('the tail era: appends at the tail until writers race, then the counter', () => {
  const pending = (value: string) => ({
    recordCount: 1,
    maxTimestamp: now,
    usesAppendTime: false,
    sizeBytes: value.length,
    location: {
      kind: 'inline' as const,
      data: encodeBatch([{ key: null, value: Buffer.from(value), headers: [], timestamp: now }]),
    },
    writerId: `writer-${value}`,
  });

  it('appends at the tail with no counter; a writer that loses the tail fences it, and the counter goes on after the fence', async () => {
    expect((await stack.api.post('/v1/topics', { name: 'era', partitions: 1 })).status).toBe(201);
    const ref = await partitionRef(stack, 'era', 0);
    const a = await stack.api.post('/v1/topics/era/records', { records: [{ value: 'a' }] });
    expect(a.body.offsets[0].offset).toBe(0);
    expect(await stack.deps.index.readCounter(ref)).toBeUndefined();
    const stale = await stack.deps.index.last(ref);

    // Another writer read the tail before 'b' landed: its put at 1 loses, it fences at 2, reserves 3.
    expect((await stack.api.post('/v1/topics/era/records', { records: [{ value: 'b' }] })).body.offsets[0].offset).toBe(
      1,
    );
    let staleReads = 0;
    const index: typeof stack.deps.index = Object.create(stack.deps.index, {
      last: { value: (p: typeof ref) => (staleReads++ === 0 ? Promise.resolve(stale) : stack.deps.index.last(p)) },
    });
    const racer = new PartitionLog({ index, clock: () => now });
    const c = await racer.append(ref, pending('c'));
    expect(c).toMatchObject({ baseOffset: 3, attempts: 2 });
    const { entries } = await stack.deps.index.entriesFrom(ref, 0, 10);
    expect(entries.map((e) => [e.baseOffset, e.recordCount, e.location.kind, e.slot])).toEqual([
      [0, 1, 'inline', undefined],
      [1, 1, 'inline', undefined],
      [2, 1, 'gap', -1],
      [3, 1, 'inline', 0],
    ]);
    expect(await stack.deps.index.readCounter(ref)).toMatchObject({ next: 4, slot: 1 });

    // The API's own writer has not seen the counter yet: it reads it and reserves.
    const d = await stack.api.post('/v1/topics/era/records', { records: [{ value: 'd' }] });
    expect(d.body.offsets[0].offset).toBe(4);
    // A tail-era put that comes late (it read the tail before the fence) can land nowhere.
    await expect(stack.deps.index.append(ref, lateEntry(2))).rejects.toBeInstanceOf(OffsetTakenError);
    // Readers pass the fence at once.
    const read = await fetchFrom('era', 0);
    expect(read.body.records.map((r: any) => [r.offset, r.value])).toEqual([
      [0, 'a'],
      [1, 'b'],
      [3, 'c'],
      [4, 'd'],
    ]);
    expect(read.body.nextOffset).toBe(5);
  });

  it('creates the counter after a fence whose writer stopped before creating it', async () => {
    expect((await stack.api.post('/v1/topics', { name: 'era-fence', partitions: 1 })).status).toBe(201);
    const ref = await partitionRef(stack, 'era-fence', 0);
    await stack.api.post('/v1/topics/era-fence/records', { records: [{ value: 'a' }] });
    // The fence at 1, and nothing more: its writer died.
    await stack.deps.index.append(ref, gapMarker(1, 1, now, { slots: { slot: -1, lastSlot: -1 } }));
    const b = await stack.api.post('/v1/topics/era-fence/records', { records: [{ value: 'b' }] });
    expect(b.body.offsets[0].offset).toBe(2);
    expect(await stack.deps.index.readCounter(ref)).toMatchObject({ next: 3, slot: 1 });
    const { entries } = await stack.deps.index.entriesFrom(ref, 2, 1);
    expect(entries[0]).toMatchObject({ baseOffset: 2, slot: 0 });
  });

  it('reserves at once where a counter exists without a fence (created from the last entry, as earlier versions did)', async () => {
    expect((await stack.api.post('/v1/topics', { name: 'era-legacy', partitions: 1 })).status).toBe(201);
    const ref = await partitionRef(stack, 'era-legacy', 0);
    // Written by an earlier version, before this instance appended here: an entry without a
    // slot, the counter created from it, and a writer's reservation of [1, 3), not written yet.
    await stack.deps.index.append(ref, lateEntry(0));
    await stack.deps.index.initCounter(ref, { next: 1, slot: 0 });
    await stack.deps.index.reserve(ref, 2);
    const b = await stack.api.post('/v1/topics/era-legacy/records', { records: [{ value: 'b' }] });
    // Not at the tail's end (1, reserved): after the reservation.
    expect(b.body.offsets[0].offset).toBe(3);
  });
});
