import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IndexEntry, type LogIndex, OffsetTakenError, type PartitionRef } from '#shared/ports/log-index';
import { MemoryLogIndex } from '../../bench/memory-ports';
import { type Stack, startStack } from '../harness';
import { immediateWorld, ModelLogIndex } from '../model/model-ports';

/**
 * The LogIndex port's contract, run against the DynamoDB adapter (on dynalite) and every
 * in-memory implementation of the port: the bench's MemoryLogIndex and the model the
 * exactly-once model check runs on. A model that behaves differently from the adapter
 * fails here, not silently in the results built on it.
 */
let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

const implementations: [string, () => LogIndex][] = [
  ['DynamoDbLogIndex (dynalite)', () => stack.deps.index],
  ['MemoryLogIndex (bench)', () => new MemoryLogIndex()],
  ['ModelLogIndex (exactly-once model check)', () => new ModelLogIndex(immediateWorld())],
];

let partitions = 0;
const freshPartition = (): PartitionRef => ({ tenantId: 'contract', topicId: `p${partitions++}`, partition: 0 });

const inline = (baseOffset: number, recordCount: number, extra: Partial<IndexEntry> = {}): IndexEntry => ({
  baseOffset,
  recordCount,
  appendTime: 1_000 + baseOffset,
  maxTimestamp: 2_000 + baseOffset,
  sizeBytes: 10 * recordCount,
  location: { kind: 'inline', data: new Uint8Array([baseOffset, recordCount, 7]) },
  ...extra,
});

/** Entries as comparable plain values (inline bytes as arrays: adapters may hand back a Buffer). */
const plain = (entry: IndexEntry | undefined) =>
  entry && {
    ...entry,
    location:
      entry.location.kind === 'inline' ? { kind: 'inline', data: [...entry.location.data] } : { ...entry.location },
  };

describe.each(implementations)('LogIndex contract: %s', (_name, make) => {
  let index: LogIndex;
  let p: PartitionRef;
  beforeAll(() => {
    index = make();
  });

  const seed = async (...entries: IndexEntry[]) => {
    p = freshPartition();
    for (const entry of entries) await index.append(p, entry);
  };

  it('answers nothing for an empty partition', async () => {
    p = freshPartition();
    expect(await index.last(p)).toBeUndefined();
    expect(await index.first(p)).toBeUndefined();
    expect(await index.entryAtOrBefore(p, 5)).toBeUndefined();
    expect(await index.entriesFrom(p, 0, 10)).toEqual({ entries: [], more: false });
  });

  it('finds the first, the last and the entry covering an offset', async () => {
    await seed(inline(0, 3), inline(3, 2), inline(5, 1));
    expect((await index.first(p))?.baseOffset).toBe(0);
    expect((await index.last(p))?.baseOffset).toBe(5);
    expect((await index.entryAtOrBefore(p, 2))?.baseOffset).toBe(0);
    expect((await index.entryAtOrBefore(p, 3))?.baseOffset).toBe(3);
    expect((await index.entryAtOrBefore(p, 4))?.baseOffset).toBe(3);
    expect((await index.entryAtOrBefore(p, 99))?.baseOffset).toBe(5);
  });

  it('keeps every field of an entry as written', async () => {
    const object: IndexEntry = {
      baseOffset: 2,
      recordCount: 5,
      appendTime: 1_500,
      maxTimestamp: 1_600,
      sizeBytes: 500,
      location: { kind: 'object', objectKey: '8d/t/x/a.seg', byteOffset: 100, byteLength: 400 },
      writerId: 'i.writer',
      batches: [
        { baseOffset: 2, byteOffset: 100, appendTime: 1_500 },
        { baseOffset: 4, byteOffset: 300, appendTime: 1_550 },
      ],
      keptWriters: { 'i.folded': 4 },
    };
    const marker: IndexEntry = { ...inline(7, 1), sizeBytes: 0, location: { kind: 'expired' } };
    await seed(inline(0, 2, { writerId: 'w0' }), object, marker);
    const { entries } = await index.entriesFrom(p, 0, 10);
    expect(entries.map(plain)).toEqual([inline(0, 2, { writerId: 'w0' }), object, marker].map(plain));
  });

  it('refuses an append at a taken base offset and leaves the entry there as it was', async () => {
    await seed(inline(0, 3, { writerId: 'first' }));
    await expect(index.append(p, inline(0, 1, { writerId: 'second' }))).rejects.toBeInstanceOf(OffsetTakenError);
    await expect(index.append(p, inline(0, 1, { writerId: 'second' }))).rejects.toMatchObject({
      code: 'offset_taken',
      baseOffset: 0,
    });
    expect((await index.last(p))?.writerId).toBe('first');
  });

  it('takes an append at any free base offset (the condition is on the key alone)', async () => {
    await seed(inline(0, 1), inline(5, 1));
    await index.append(p, inline(2, 1));
    expect((await index.entriesFrom(p, 0, 10)).entries.map((e) => e.baseOffset)).toEqual([0, 2, 5]);
    expect((await index.entryAtOrBefore(p, 3))?.baseOffset).toBe(2);
  });

  it('pages in offset order; a short page is the last one, and no entry follows a page without more', async () => {
    await seed(inline(0, 1), inline(1, 1), inline(2, 1));
    const first = await index.entriesFrom(p, 0, 2);
    expect(first.entries.map((e) => e.baseOffset)).toEqual([0, 1]);
    expect(first.more).toBe(true);
    const second = await index.entriesFrom(p, 2, 2);
    expect(second.entries.map((e) => e.baseOffset)).toEqual([2]);
    expect(second.more).toBe(false);
    const exact = await index.entriesFrom(p, 1, 2);
    expect(exact.entries.map((e) => e.baseOffset)).toEqual([1, 2]);
    // `more` may be true on an exactly full last page (DynamoDB says so); the next page is then empty.
    if (exact.more) expect(await index.entriesFrom(p, 3, 2)).toEqual({ entries: [], more: false });
    expect((await index.entriesFrom(p, 1, 10)).entries.map((e) => e.baseOffset)).toEqual([1, 2]);
  });

  it('replaces an entry only while it is stored unchanged (count, append time and location)', async () => {
    const stored = inline(0, 4);
    await seed(stored);
    const compacted: IndexEntry = {
      ...stored,
      location: { kind: 'object', objectKey: 'seg', byteOffset: 0, byteLength: 40 },
    };
    // A different count, append time or location than stored: refused, nothing changes.
    expect(await index.replace(p, { ...stored, recordCount: 3 }, compacted)).toBe(false);
    expect(await index.replace(p, { ...stored, appendTime: 1 }, compacted)).toBe(false);
    expect(await index.replace(p, { ...stored, location: { kind: 'expired' } }, compacted)).toBe(false);
    expect(plain(await index.last(p))).toEqual(plain(stored));
    // The entry as stored (an equal copy, as a reader would hold it): replaced.
    expect(await index.replace(p, structuredClone(stored), compacted)).toBe(true);
    expect(plain(await index.last(p))).toEqual(plain(compacted));
    // The old version no longer matches; nor does an object entry with another key.
    expect(await index.replace(p, stored, compacted)).toBe(false);
    const otherObject: IndexEntry = {
      ...compacted,
      location: { kind: 'object', objectKey: 'other', byteOffset: 0, byteLength: 40 },
    };
    expect(await index.replace(p, otherObject, stored)).toBe(false);
    expect(await index.replace(p, inline(9, 1), inline(9, 1))).toBe(false);
  });

  it('removes an entry only while it is stored unchanged, once', async () => {
    const stored = inline(0, 2);
    await seed(stored, inline(2, 1));
    expect(await index.remove(p, { ...stored, recordCount: 1 })).toBe(false);
    expect(await index.remove(p, structuredClone(stored))).toBe(true);
    expect(await index.remove(p, stored)).toBe(false);
    expect((await index.first(p))?.baseOffset).toBe(2);
  });

  it('has no counter until one is created, then hands out offsets and slots that never repeat', async () => {
    p = freshPartition();
    expect(await index.reserve(p, 3)).toBeUndefined();
    expect(await index.readCounter(p)).toBeUndefined();
    expect(await index.initCounter(p, { next: 7, slot: 2 })).toBe(true);
    // A second creation (a writer that lost the race) changes nothing.
    expect(await index.initCounter(p, { next: 0, slot: 0 })).toBe(false);
    expect(await index.reserve(p, 3)).toEqual({ baseOffset: 7, slot: 2 });
    expect(await index.reserve(p, 1)).toEqual({ baseOffset: 10, slot: 3 });
    const concurrent = await Promise.all(Array.from({ length: 8 }, () => index.reserve(p, 2)));
    const bases = concurrent.map((r) => r?.baseOffset).sort((a, b) => (a as number) - (b as number));
    expect(bases).toEqual([11, 13, 15, 17, 19, 21, 23, 25]);
    expect(new Set(concurrent.map((r) => r?.slot))).toEqual(new Set([4, 5, 6, 7, 8, 9, 10, 11]));
    expect(await index.readCounter(p)).toEqual({ next: 27, slot: 12, floor: 0 });
    // The counter is no entry: the partition's queries never see it.
    expect(await index.last(p)).toBeUndefined();
    expect(await index.entriesFrom(p, 0, 10)).toEqual({ entries: [], more: false });
  });

  it('raises the trim floor, never lowers it, and never creates a counter by it', async () => {
    p = freshPartition();
    await index.raiseFloor(p, 5);
    expect(await index.readCounter(p)).toBeUndefined();
    expect(await index.reserve(p, 1)).toBeUndefined();
    await index.initCounter(p, { next: 10, slot: 0 });
    await index.raiseFloor(p, 4);
    await index.raiseFloor(p, 2);
    expect(await index.readCounter(p)).toEqual({ next: 10, slot: 0, floor: 4 });
    expect(await index.reserve(p, 1)).toEqual({ baseOffset: 10, slot: 0 });
    // A deleted topic's counter goes with its data.
    await index.removeCounter(p);
    expect(await index.readCounter(p)).toBeUndefined();
  });

  it('keeps slots and gap markers as written, and a gap marker takes its key like an entry', async () => {
    const slotted = inline(0, 2, { writerId: 'w', slot: 4 });
    const gap: IndexEntry = {
      baseOffset: 2,
      recordCount: 3,
      appendTime: 9,
      maxTimestamp: -1,
      sizeBytes: 0,
      location: { kind: 'gap' },
      slot: 5,
      lastSlot: 6,
    };
    const { slot: _slot, lastSlot: _lastSlot, ...unslotted } = gap;
    const inner: IndexEntry = { ...unslotted, baseOffset: 3, recordCount: 1, holeStart: 2 };
    await seed(slotted, inner, gap);
    expect((await index.entriesFrom(p, 0, 10)).entries.map(plain)).toEqual([slotted, gap, inner].map(plain));
    await expect(index.append(p, inline(2, 1))).rejects.toBeInstanceOf(OffsetTakenError);
    expect(await index.remove(p, structuredClone(gap))).toBe(true);
  });

  it('keeps partitions apart', async () => {
    await seed(inline(0, 1));
    const other = freshPartition();
    expect(await index.last(other)).toBeUndefined();
    await index.append(other, inline(0, 1));
    expect((await index.entriesFrom(p, 0, 10)).entries).toHaveLength(1);
  });
});
