import { describe, expect, it } from 'vitest';
import { DAY, IDEMPOTENCY_RETENTION_MS } from '#shared/constants';
import { COMPACTION_DEFAULTS, foldRun, needsRehome, planCompaction, rehomeEntries } from './compaction';
import type { IndexEntry } from './index-entry';
import { decodeBatches, encodeBatch } from './segment-codec';

const options = { ...COMPACTION_DEFAULTS, targetBytes: 1000, minRunEntries: 4, maxBatches: 10 };

/** Consecutive entries of the given stored sizes (one record each), inline below 100 bytes. */
const entries = (...sizes: number[]): IndexEntry[] =>
  sizes.map((size, i) => ({
    baseOffset: i,
    recordCount: 1,
    appendTime: 1000 + i,
    maxTimestamp: 1000 + i,
    sizeBytes: size,
    location:
      size < 100
        ? { kind: 'inline', data: new Uint8Array(size) }
        : { kind: 'object', objectKey: `8d/t/x/o${i}.seg`, byteOffset: 0, byteLength: size },
  }));

const bases = (runs: IndexEntry[][]) => runs.map((run) => run.map((e) => e.baseOffset));

describe('planCompaction', () => {
  it('folds a run once it reaches the target and leaves full entries alone', () => {
    const plan = planCompaction(entries(400, 400, 400, 2000, 50), options);
    expect(bases(plan.runs)).toEqual([[0, 1, 2]]);
    // The lone small entry after the full one waits for company.
    expect(plan.settledThrough).toBe(4);
  });

  it('waits with a short trailing run, and folds it at minRunEntries', () => {
    expect(planCompaction(entries(10, 10, 10), options)).toEqual({ runs: [], settledThrough: 0 });
    const plan = planCompaction(entries(10, 10, 10, 10), options);
    expect(bases(plan.runs)).toEqual([[0, 1, 2, 3]]);
    // Folded below the target: it may take in newer entries later.
    expect(plan.settledThrough).toBe(0);
  });

  it('folds a short run that a full entry cuts off, since it cannot grow', () => {
    const plan = planCompaction(entries(10, 10, 5000, 10), options);
    expect(bases(plan.runs)).toEqual([[0, 1]]);
    expect(plan.settledThrough).toBe(3);
  });

  it('keeps runs within the batch limit and twice the target', () => {
    const plan = planCompaction(entries(...Array(25).fill(10)), options);
    expect(plan.runs.map((r) => r.length)).toEqual([10, 10, 5]);
    const sized = planCompaction(entries(900, 900, 900), { ...options, targetBytes: 1000 });
    expect(bases(sized.runs)).toEqual([[0, 1]]);
  });

  it('never folds across a gap in offsets', () => {
    const list = entries(10, 10, 10, 10, 10, 10);
    const gapped = [...list.slice(0, 3), ...list.slice(4)];
    expect(bases(planCompaction(gapped, options).runs)).toEqual([[0, 1, 2]]);
  });
});

describe('needsRehome', () => {
  it('flags objects whose class a longer retention outlasts', () => {
    const [entry] = entries(500);
    expect(needsRehome(entry as IndexEntry, 7 * 86_400_000)).toBe(false);
    expect(needsRehome(entry as IndexEntry, 30 * 86_400_000)).toBe(true);
    expect(needsRehome(entry as IndexEntry, -1)).toBe(true);
    expect(needsRehome(entries(5)[0] as IndexEntry, -1)).toBe(false);
  });
});

describe('foldRun', () => {
  const NOW = 100 * DAY;
  const record = (value: string) => ({ key: null, value: Buffer.from(value), headers: [], timestamp: 5 });
  /** Two entries written by producers: one inline batch of 2 records, one object batch of 1. */
  const run = (): { entries: IndexEntry[]; bytes: Map<IndexEntry, Uint8Array> } => {
    const a = encodeBatch([record('a0'), record('a1')]);
    const b = encodeBatch([record('b0')]);
    const first: IndexEntry = {
      baseOffset: 10,
      recordCount: 2,
      appendTime: NOW - 1000,
      maxTimestamp: 5,
      sizeBytes: 4,
      location: { kind: 'inline', data: a },
      writerId: 'i.kept',
    };
    const second: IndexEntry = {
      baseOffset: 12,
      recordCount: 1,
      appendTime: NOW - IDEMPOTENCY_RETENTION_MS - 2 * DAY,
      maxTimestamp: 7,
      sizeBytes: 2,
      location: { kind: 'object', objectKey: 'old', byteOffset: 0, byteLength: b.byteLength },
      writerId: 'i.expired-claim',
    };
    return {
      entries: [first, second],
      bytes: new Map([
        [first, a],
        [second, b],
      ]),
    };
  };

  it('lays the batches back to back with a directory, stamped with their own append times', () => {
    const { entries: folded, bytes } = run();
    const { body, entry } = foldRun({ run: folded, bytes, objectKey: 'seg', now: NOW });
    expect(entry).toMatchObject({
      baseOffset: 10,
      recordCount: 3,
      appendTime: NOW - 1000,
      maxTimestamp: 7,
      sizeBytes: 6,
      location: { kind: 'object', objectKey: 'seg', byteOffset: 0, byteLength: body.byteLength },
    });
    expect(entry.batches?.map((b) => [b.baseOffset, b.appendTime])).toEqual([
      [10, NOW - 1000],
      [12, folded[1]?.appendTime],
    ]);
    const records = decodeBatches(body, { baseOffset: 10, appendTime: 0 });
    expect(records.map((r) => [r.offset, Buffer.from(r.value ?? []).toString(), r.appendTime])).toEqual([
      [10, 'a0', NOW - 1000],
      [11, 'a1', NOW - 1000],
      [12, 'b0', folded[1]?.appendTime],
    ]);
  });

  it('keeps only the writer ids an idempotent retry may still look for', () => {
    const { entries: folded, bytes } = run();
    expect(foldRun({ run: folded, bytes, objectKey: 'seg', now: NOW }).entry.keptWriters).toEqual({ 'i.kept': 10 });
  });

  it('refuses an entry whose bytes hold another record count', () => {
    const { entries: folded, bytes } = run();
    const wrong = { ...(folded[0] as IndexEntry), recordCount: 3 };
    expect(() =>
      foldRun({
        run: [wrong],
        bytes: new Map([[wrong, bytes.get(folded[0] as IndexEntry) as Uint8Array]]),
        objectKey: 's',
        now: NOW,
      }),
    ).toThrow(/different record count/);
  });
});

describe('rehomeEntries', () => {
  it('copies object entries into one object and shifts their batch directories', () => {
    const a = new Uint8Array([1, 2, 3]);
    const b = new Uint8Array([4, 5]);
    const first: IndexEntry = {
      baseOffset: 0,
      recordCount: 1,
      appendTime: 1,
      maxTimestamp: 1,
      sizeBytes: 3,
      location: { kind: 'object', objectKey: 'x', byteOffset: 40, byteLength: 3 },
    };
    const second: IndexEntry = {
      ...first,
      baseOffset: 1,
      location: { kind: 'object', objectKey: 'y', byteOffset: 7, byteLength: 2 },
      batches: [{ baseOffset: 1, byteOffset: 7, appendTime: 1 }],
    };
    const marker: IndexEntry = { ...first, baseOffset: 2, location: { kind: 'expired' } };
    const { body, moves } = rehomeEntries({
      entries: [first, second, marker],
      bytes: new Map([
        [first, a],
        [second, b],
      ]),
      objectKey: 'new',
    });
    expect([...body]).toEqual([1, 2, 3, 4, 5]);
    expect(moves.map((m) => m.from)).toEqual([first, second]);
    expect(moves.map((m) => m.to.location)).toEqual([
      { kind: 'object', objectKey: 'new', byteOffset: 0, byteLength: 3 },
      { kind: 'object', objectKey: 'new', byteOffset: 3, byteLength: 2 },
    ]);
    expect(moves[1]?.to.batches).toEqual([{ baseOffset: 1, byteOffset: 3, appendTime: 1 }]);
  });
});
