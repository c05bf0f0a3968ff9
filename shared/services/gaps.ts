import type { IndexEntry, LogIndex, PartitionRef } from '#shared/ports/log-index';
import { entryEnd, firstSlot, lastSlot, OffsetTakenError, scanEntries } from '#shared/ports/log-index';
import { mapWithConcurrency } from './concurrency';

/** Marker puts in flight at once while a reader marks a hole offset by offset. */
const PARALLEL_MARKERS = 16;

/** Index entries a reader looks at past a hole to find the entry after it. */
const HOLE_PAGE_ENTRIES = 64;

/**
 * What a reader found at an offset no entry covers:
 * - `trimmed`: nothing below it either (past retention, or before the first entry);
 * - `changed`: an entry covers it now, or the hole changed while it was being marked: read again;
 * - `open`: a hole still young enough that its writer may yet write it, until `until` (ms);
 * - `marked`: the hole was old and is now covered by gap markers: read again.
 */
export type HoleState =
  | { kind: 'trimmed' }
  | { kind: 'changed' }
  | { kind: 'open'; at: number; until: number }
  | { kind: 'marked'; at: number; end: number; markers: number };

/** A gap marker over `[baseOffset, baseOffset + count)`; `holeStart` for an inner (1-offset) one. */
export const gapMarker = (
  baseOffset: number,
  count: number,
  now: number,
  extra: { slots?: { slot: number; lastSlot: number }; holeStart?: number } = {},
): IndexEntry => {
  const marker: IndexEntry = {
    baseOffset,
    recordCount: count,
    appendTime: now,
    maxTimestamp: -1,
    sizeBytes: 0,
    location: { kind: 'gap' },
  };
  if (extra.slots) {
    marker.slot = extra.slots.slot;
    if (extra.slots.lastSlot !== extra.slots.slot) marker.lastSlot = extra.slots.lastSlot;
  }
  if (extra.holeStart !== undefined) marker.holeStart = extra.holeStart;
  return marker;
};

/**
 * The entry covering `offset` or, if none does, the last one before it: as
 * `entryAtOrBefore`, except that an inner gap marker counts only when everything from
 * its hole's start up to it is covered (reached in offset order, the way a scan reaches
 * it). Otherwise the hole is still open below `offset`, and the answer is what ends
 * where the open part starts. An inner marker found on its own could sit inside an entry
 * that landed at the hole's start after it was put, or in front of a reservation still
 * unfenced: passing it would skip records.
 */
export const coveringOrBefore = async (
  index: Pick<LogIndex, 'entryAtOrBefore' | 'entriesFrom'>,
  partition: PartitionRef,
  offset: number,
): Promise<IndexEntry | undefined> => {
  const found = await index.entryAtOrBefore(partition, offset);
  if (!found || found.holeStart === undefined) return found;
  const h = found.holeStart;
  let current: IndexEntry | undefined;
  for await (const entry of scanEntries(index, partition, h)) {
    if (entry.baseOffset > offset) break;
    if (current && entryEnd(entry) <= entryEnd(current)) continue;
    if (entry.baseOffset > (current ? entryEnd(current) : h)) break;
    current = entry;
  }
  if (current) return current;
  const before = h > 0 ? await index.entryAtOrBefore(partition, h - 1) : undefined;
  return before && entryEnd(before) <= h ? before : undefined;
};

/**
 * The gap rule (docs/offset-protocol.md, "Gaps"). A hole is a range `[h, c)` of offsets
 * reserved on the partition's counter that no entry covers: the entry P before it ends at
 * h, the next entry with a slot, N, starts at c. Readers return nothing at or beyond h.
 * Once N is older than the gap bound, the reservations in the hole belong to writers that
 * died (or gave up): the resolver covers the hole with gap markers, each one a conditional
 * put (`attribute_not_exists(sk)`), so a late put of such a writer fails and it can never
 * be acknowledged — whatever the timing:
 *
 * - k = slot(N) − slot(P) − 1 reservations are missing. Reservations tile the offsets in
 *   slot order, so with k = 1 the hole is exactly one reservation, starting at h: one marker
 *   at h over `[h, c)` fences it.
 * - Otherwise (k ≥ 2, or P's slot unknown) the inner reservation boundaries are unknown:
 *   first a 1-offset marker at every offset in `(h, c)` (where none is yet), then the
 *   marker at h over `[h, c)`. Every reservation in the hole starts at one of those offsets,
 *   so every late put fails. A marker put that fails means a late entry landed: stop, read again.
 */
export class GapResolver {
  constructor(
    private readonly index: LogIndex,
    private readonly clock: () => number,
    private readonly gapBoundMs: number,
  ) {}

  /**
   * Whether the range below `first` (the partition's first entry, nothing at or below `at`
   * before it) was trimmed by retention, rather than a hole at the partition's start: the
   * first entry is an expiry marker or older than the counter, or `at` is below the trim
   * floor that retention raises on the counter before it deletes anything.
   */
  async trimmedBelow(partition: PartitionRef, first: IndexEntry, at: number): Promise<boolean> {
    if (first.location.kind === 'expired' || firstSlot(first) === -1) return true;
    const counter = await this.index.readCounter(partition);
    return !counter || at < counter.floor;
  }

  /** Looks at `at`, where the reader found no entry starting, and marks the hole there if it is old enough. */
  async resolve(partition: PartitionRef, at: number): Promise<HoleState> {
    const before = await coveringOrBefore(this.index, partition, at);
    if (before && entryEnd(before) > at) return { kind: 'changed' };
    if (!before) {
      // Nothing below: the partition's start (its first reservations, slots from 0), or trimmed.
      const { entries } = await this.index.entriesFrom(partition, 0, 1);
      const first = entries[0];
      if (!first || (await this.trimmedBelow(partition, first, at))) return { kind: 'trimmed' };
    }
    const h = before ? entryEnd(before) : 0;
    const previousSlot = before ? lastSlot(before) : -1;
    // Markers of unknown slot (inner ones a reader that stopped half-way left inside the hole), then N.
    const marked = new Set<number>();
    let next: IndexEntry | undefined;
    for await (const entry of scanEntries(this.index, partition, h, HOLE_PAGE_ENTRIES)) {
      if (entry.baseOffset === h) return { kind: 'changed' };
      if (firstSlot(entry) !== undefined) {
        next = entry;
        break;
      }
      marked.add(entry.baseOffset);
    }
    // Nothing after the hole: a reservation at the tail (nothing to pass yet).
    const now = this.clock();
    if (!next) return { kind: 'open', at: h, until: now + this.gapBoundMs };
    if (now < next.appendTime + this.gapBoundMs)
      return { kind: 'open', at: h, until: next.appendTime + this.gapBoundMs };
    const c = next.baseOffset;
    const nextSlot = firstSlot(next) as number;
    const missing = previousSlot === undefined ? undefined : nextSlot - previousSlot - 1;
    const slots =
      previousSlot !== undefined && missing !== undefined && missing >= 1
        ? { slots: { slot: previousSlot + 1, lastSlot: nextSlot - 1 } }
        : {};
    let markers = 0;
    if (missing !== 1) {
      const inner: number[] = [];
      for (let o = h + 1; o < c; o++) if (!marked.has(o)) inner.push(o);
      let landed = false;
      await mapWithConcurrency(inner, PARALLEL_MARKERS, async (offset) => {
        if (landed) return;
        if (await this.put(partition, gapMarker(offset, 1, now, { holeStart: h }))) markers += 1;
        else landed = true;
      });
      if (landed) return { kind: 'changed' };
    }
    if (!(await this.put(partition, gapMarker(h, c - h, now, slots)))) return { kind: 'changed' };
    return { kind: 'marked', at: h, end: c, markers: markers + 1 };
  }

  /** One conditional marker put; false when something holds the offset already. */
  private async put(partition: PartitionRef, marker: IndexEntry): Promise<boolean> {
    try {
      await this.index.append(partition, marker);
      return true;
    } catch (error) {
      if (error instanceof OffsetTakenError) return false;
      throw error;
    }
  }
}
