import { GAP_BOUND_MS } from '#shared/constants';
import { recordSize, type StoredRecord } from '#shared/domain/records';
import { retentionCutoff } from '#shared/domain/retention';
import { decodeBatches } from '#shared/domain/segment-codec';
import type { IndexEntry, LogIndex, PartitionRef } from '#shared/ports/log-index';
import { entryBatches, entryEnd, isInnerMarker, scanEntries } from '#shared/ports/log-index';
import { SegmentNotFoundError, type SegmentStore } from '#shared/ports/segment-store';
import { mapWithConcurrency } from './concurrency';
import { coveringOrBefore, GapResolver } from './gaps';

export interface ReadLimits {
  maxRecords: number;
  maxBytes: number;
}

export interface ReadResult {
  records: StoredRecord[];
  nextOffset: number;
  /**
   * The read stopped, empty-handed, at a hole: offsets reserved by a writer that has not
   * written them (yet). Readers never pass it until it is filled or, once `until` (ms)
   * has passed, marked as a gap (docs/offset-protocol.md, "Gaps").
   */
  hole?: { at: number; until: number };
}

export interface PartitionReaderDeps {
  index: LogIndex;
  segments: SegmentStore;
  clock: () => number;
  /** The gap bound G. @default GAP_BOUND_MS */
  gapBoundMs?: number;
}

/** Times one read resolves a hole and reads on before it answers what it has. */
const HOLE_ROUNDS = 3;

/** Entries fetched per index query while reading. */
const READ_PAGE_ENTRIES = 100;

/** Reads that start over when an object they were about to read was removed (compaction, cleanup). */
const READ_ATTEMPTS = 3;

/** Ranged GETs in flight at once for one read or compaction. */
const PARALLEL_GETS = 16;

/**
 * Reads records of one partition: index entries (one paging loop, `scanEntries`), then
 * their bytes, inline or by ranged GETs of segment objects. Writing is PartitionLog's
 * (partition-log.ts); a reader relies only on what it guarantees: an entry that exists is
 * committed, offsets are dense, and compaction rewrites entries in a known order.
 */
export class PartitionReader {
  private readonly index: LogIndex;
  private readonly segments: SegmentStore;
  private readonly clock: () => number;
  private readonly gaps: GapResolver;

  constructor(deps: PartitionReaderDeps) {
    this.index = deps.index;
    this.segments = deps.segments;
    this.clock = deps.clock;
    this.gaps = new GapResolver(deps.index, deps.clock, deps.gapBoundMs ?? GAP_BOUND_MS);
  }

  /**
   * Reads records from `fromOffset` on, in offset order, stopping at `maxRecords` or
   * when the next record would exceed `maxBytes` (but always returning at least one
   * record when one exists, so a large record cannot stall a consumer).
   *
   * Compaction may run meanwhile (docs/retention-and-compaction.md): it overwrites the
   * first entry of a run with the compacted entry, then deletes the others in offset
   * order. So an entry whose range a previous entry already covered is skipped, and when
   * the next entry starts above the offset wanted, the entry covering that offset is
   * looked up below it. An object deleted after its entry was read makes the read start
   * over from the index.
   *
   * A hole (offsets reserved, not written) stops the read: what lies before it is
   * returned, and nothing at or beyond it. A read that stops at a hole with nothing to
   * return asks the gap resolver, which marks the hole once it is older than the gap bound
   * (then the read goes on) or tells until when it may still fill (`hole` in the result).
   */
  async read(
    partition: PartitionRef,
    fromOffset: number,
    limits: ReadLimits,
    retentionMs: number,
  ): Promise<ReadResult> {
    for (let round = 1; ; round++) {
      const { holeAt, ...result } = await this.readRetrying(partition, fromOffset, limits, retentionMs);
      if (holeAt === undefined || result.records.length > 0) return result;
      const state = await this.gaps.resolve(partition, holeAt);
      if (state.kind === 'open') return { ...result, hole: { at: state.at, until: state.until } };
      if (round >= HOLE_ROUNDS) return { ...result, hole: { at: holeAt, until: this.clock() } };
      // Marked, or it changed under us (a late entry landed, compaction or trim ran): read again.
    }
  }

  private async readRetrying(
    partition: PartitionRef,
    fromOffset: number,
    limits: ReadLimits,
    retentionMs: number,
  ): Promise<ReadResult & { holeAt?: number }> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.readOnce(partition, fromOffset, limits, retentionMs);
      } catch (error) {
        if (!(error instanceof SegmentNotFoundError) || attempt >= READ_ATTEMPTS) throw error;
      }
    }
  }

  private async readOnce(
    partition: PartitionRef,
    fromOffset: number,
    limits: ReadLimits,
    retentionMs: number,
  ): Promise<ReadResult & { holeAt?: number }> {
    const cutoff = retentionCutoff(retentionMs, this.clock());
    const selected: IndexEntry[] = [];
    let budgetRecords = limits.maxRecords;
    let budgetBytes = limits.maxBytes;
    // The next offset an entry must cover; everything below it is selected (or expired).
    let cursor = fromOffset;
    // Where the last item this read took (or passed) ends: an inner gap marker starting there
    // follows a known reservation boundary and may be passed (gaps.ts).
    let vouched: number | undefined;
    const take = (entry: IndexEntry): boolean => {
      vouched = Math.max(cursor, entryEnd(entry));
      for (const part of entryBatches(entry)) {
        const end = entryEnd(part);
        if (end <= cursor) continue;
        if (part.location.kind !== 'expired' && part.location.kind !== 'gap') {
          selected.push(part);
          budgetRecords -= end - Math.max(cursor, part.baseOffset);
          budgetBytes -= part.sizeBytes;
        }
        cursor = end;
        if (budgetRecords <= 0 || budgetBytes <= 0) return false;
      }
      return true;
    };
    /**
     * The entry covering `cursor` from below, taken if it holds anything past it: 'stop' when
     * the budget ran out, 'none' when no entry lies at or below `cursor` (trimmed by retention).
     */
    const takeCovering = async (): Promise<'stop' | 'none' | 'go'> => {
      const covering = await coveringOrBefore(this.index, partition, cursor);
      if (!covering) return 'none';
      return entryEnd(covering) <= cursor || take(covering) ? 'go' : 'stop';
    };
    let holeAt: number | undefined;

    // Every entry holds at least one record: a page never needs more entries than records are wanted.
    const pageSize = () => Math.min(READ_PAGE_ENTRIES, Math.max(1, budgetRecords));
    let seen = 0;
    for await (const entry of scanEntries(this.index, partition, cursor, pageSize)) {
      seen += 1;
      if (entryEnd(entry) <= cursor) continue;
      if (entry.baseOffset > cursor) {
        // The entries for [cursor, entry.baseOffset) were folded into an entry below cursor
        // after the scan began (or, at the start, cursor is inside a batch).
        const covering = await takeCovering();
        if (covering === 'stop') break;
        // No entry at or below: the range was past retention and trimmed (or it is a hole at the partition's start).
        if (covering === 'none' && (await this.gaps.trimmedBelow(partition, entry, cursor))) {
          cursor = Math.max(cursor, entry.baseOffset);
        }
        // An entry ends below the next one: a hole. Never pass it.
        if (entry.baseOffset > cursor) {
          holeAt = cursor;
          break;
        }
        if (entryEnd(entry) <= cursor) continue;
      }
      if (isInnerMarker(entry) && vouched !== entry.baseOffset) {
        // An inner marker met first: part of a hole still being marked, or inside an entry
        // that landed at the hole's start. Pass it only as what covers it from below says.
        const covering = await coveringOrBefore(this.index, partition, cursor);
        if (!covering || entryEnd(covering) <= cursor) {
          holeAt = cursor;
          break;
        }
        if (!take(covering)) break;
        if (entryEnd(entry) <= cursor) continue;
        if (vouched !== entry.baseOffset) {
          holeAt = cursor;
          break;
        }
      }
      if (!take(entry)) break;
    }
    // Nothing starts at or after fromOffset: it is inside the last entry (or past the end).
    if (seen === 0) await takeCovering();

    const decoded = await this.decode(selected);
    const records: StoredRecord[] = [];
    let bytes = 0;
    let nextOffset = fromOffset;
    let complete = true;
    for (const record of decoded) {
      // Parts overlap only where two compactions raced; offsets stay strictly increasing.
      if (record.offset < nextOffset) continue;
      nextOffset = record.offset + 1;
      if (record.appendTime < cutoff) continue;
      const size = recordSize(record);
      if (records.length > 0 && (records.length >= limits.maxRecords || bytes + size > limits.maxBytes)) {
        nextOffset = record.offset;
        complete = false;
        break;
      }
      records.push(record);
      bytes += size;
    }
    // Every selected record was consumed: continue after the last entry taken, so entries
    // that hold nothing readable (expiry markers) are passed too.
    if (complete) nextOffset = Math.max(nextOffset, cursor);
    return holeAt === undefined || !complete ? { records, nextOffset } : { records, nextOffset, holeAt };
  }

  /**
   * Kafka's ListOffsets by time: the first offset at or after `fromOffset` whose record
   * is within retention (`cutoff`) and has timestamp >= `timestamp`, if any. Entries whose
   * maxTimestamp is below the target are passed without reading their bytes.
   */
  async offsetForTimestamp(
    partition: PartitionRef,
    fromOffset: number,
    timestamp: number,
    cutoff: number,
  ): Promise<number | undefined> {
    const covering = await this.index.entryAtOrBefore(partition, fromOffset);
    const start =
      covering && covering.baseOffset < fromOffset && entryEnd(covering) > fromOffset ? covering : undefined;
    const candidates = async function* (index: LogIndex) {
      if (start) yield start;
      yield* scanEntries(index, partition, fromOffset, READ_PAGE_ENTRIES);
    };
    for await (const entry of candidates(this.index)) {
      if (entry.maxTimestamp < timestamp) continue;
      const records = await this.decode([entry]);
      const hit = records.find((r) => r.offset >= fromOffset && r.appendTime >= cutoff && r.timestamp >= timestamp);
      if (hit) return hit.offset;
    }
    return undefined;
  }

  /** Fetches batch bytes (adjacent ranges of one object in a single GET) and decodes them. */
  private async decode(entries: IndexEntry[]): Promise<StoredRecord[]> {
    const bytesByEntry = await this.entryBytes(entries);
    return entries.flatMap((entry) => {
      if (entry.location.kind === 'expired' || entry.location.kind === 'gap') return [];
      const bytes = bytesByEntry.get(entry);
      if (!bytes) throw new Error(`No bytes for entry at ${entry.baseOffset}`);
      return decodeBatches(bytes, { baseOffset: entry.baseOffset, appendTime: entry.appendTime });
    });
  }

  /**
   * The stored bytes of each entry (expiry markers have none): inline ones as they are,
   * adjacent ranges of one object with a single ranged GET.
   */
  async entryBytes(entries: readonly IndexEntry[]): Promise<Map<IndexEntry, Uint8Array>> {
    interface Range {
      objectKey: string;
      start: number;
      end: number;
      entries: IndexEntry[];
    }
    const ranges: Range[] = [];
    const bytesByEntry = new Map<IndexEntry, Uint8Array>();
    for (const entry of entries) {
      if (entry.location.kind === 'inline') bytesByEntry.set(entry, entry.location.data);
      if (entry.location.kind !== 'object') continue;
      const { objectKey, byteOffset, byteLength } = entry.location;
      const previous = ranges.at(-1);
      if (previous && previous.objectKey === objectKey && previous.end === byteOffset) {
        previous.end = byteOffset + byteLength;
        previous.entries.push(entry);
      } else {
        ranges.push({ objectKey, start: byteOffset, end: byteOffset + byteLength, entries: [entry] });
      }
    }
    // Bounded parallelism: compaction may read hundreds of small objects for one segment.
    await mapWithConcurrency(ranges, PARALLEL_GETS, async (range) => {
      const bytes = await this.segments.getRange(range.objectKey, range.start, range.end - range.start);
      for (const entry of range.entries) {
        if (entry.location.kind !== 'object') continue;
        const at = entry.location.byteOffset - range.start;
        bytesByEntry.set(entry, bytes.subarray(at, at + entry.location.byteLength));
      }
    });
    return bytesByEntry;
  }
}
