import { describe, expect, it } from 'vitest';
import type { IndexEntry } from '#shared/ports/log-index';
import { COMPACTION_DEFAULTS, needsRehome, planCompaction } from './compaction';

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
