import { MAX_APPEND_ATTEMPTS } from '#shared/constants';
import { PortError } from '#shared/domain/errors';
import { recordSize, type StoredRecord } from '#shared/domain/records';
import { retentionCutoff } from '#shared/domain/retention';
import { decodeBatches } from '#shared/domain/segment-codec';
import type { IndexEntry, LogIndex, PartitionRef } from '#shared/ports/log-index';
import {
  entryBatches,
  entryEnd,
  lastAppendTime,
  OffsetTakenError,
  partitionKey,
  scanEntries,
} from '#shared/ports/log-index';
import { SegmentNotFoundError, type SegmentStore } from '#shared/ports/segment-store';
import type { AppendNotifier } from './append-notifier';
import { mapWithConcurrency } from './concurrency';

/** A batch ready to be committed: its bytes are already inline or in a segment object. */
export interface PendingEntry extends Omit<IndexEntry, 'baseOffset' | 'appendTime'> {
  /** Some records carry no timestamp and take the append time (counts for maxTimestamp). */
  usesAppendTime: boolean;
}

export interface AppendResult {
  baseOffset: number;
  appendTime: number;
  /** Conditional writes it took (1 on an uncontended partition). */
  attempts: number;
}

export interface PartitionBounds {
  logStartOffset: number;
  highWatermark: number;
}

export interface ReadLimits {
  maxRecords: number;
  maxBytes: number;
}

export interface ReadResult {
  records: StoredRecord[];
  nextOffset: number;
}

/** The append ran out of attempts because other writers kept winning. */
export class AppendContentionError extends PortError {
  constructor(readonly attempts: number) {
    super('append_contention', `Append lost ${attempts} compare-and-set rounds to concurrent writers`);
  }
}

/**
 * The append was not sent because the writer's lease ends too soon: another attempt may
 * take over the request, so this one must not write any more (docs/exactly-once.md).
 */
export class LeaseExpiredError extends PortError {
  constructor(readonly deadline: number) {
    super('lease_expired', `The writer's deadline ${deadline} has passed; no further append is sent`);
  }
}

export interface AppendOptions {
  /** No conditional write is sent at or after this time (ms, same clock). */
  deadline?: number;
}

/** Entries fetched per index query while reading. */
const READ_PAGE_ENTRIES = 100;

/** Reads that start over when an object they were about to read was removed (compaction, cleanup). */
const READ_ATTEMPTS = 3;

/** Ranged GETs in flight at once for one read or compaction. */
const PARALLEL_GETS = 16;

/**
 * The offset protocol of one partition, over the index and segment ports. See
 * docs/offset-protocol.md for the timeline and its crash points. In short: the index
 * holds one entry per committed batch, keyed by base offset; an append reads the last
 * entry, computes the next base offset and writes its entry there on the condition that
 * the key is free. Offsets are dense by construction (an entry exists or it does not),
 * so there is never a hole for a reader to wait on.
 */
export class PartitionLog {
  constructor(
    private readonly index: LogIndex,
    private readonly segments: SegmentStore,
    private readonly clock: () => number,
    private readonly notifier?: AppendNotifier,
    private readonly maxAttempts = MAX_APPEND_ATTEMPTS,
  ) {}

  async append(partition: PartitionRef, pending: PendingEntry, options: AppendOptions = {}): Promise<AppendResult> {
    let last = await this.index.last(partition);
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      if (options.deadline !== undefined && this.clock() >= options.deadline) {
        throw new LeaseExpiredError(options.deadline);
      }
      const baseOffset = last ? last.baseOffset + last.recordCount : 0;
      // Append times never go backwards within a partition, whatever the clocks of the
      // functions that write it: retention and time lookups may rely on their order.
      const appendTime = Math.max(this.clock(), last?.appendTime ?? 0);
      try {
        const { usesAppendTime, ...rest } = pending;
        const maxTimestamp = usesAppendTime ? Math.max(pending.maxTimestamp, appendTime) : pending.maxTimestamp;
        await this.index.append(partition, { ...rest, maxTimestamp, baseOffset, appendTime });
        this.notifier?.notify(partitionKey(partition));
        return { baseOffset, appendTime, attempts: attempt };
      } catch (error) {
        if (!(error instanceof OffsetTakenError)) throw error;
        // Either someone else committed at baseOffset, or we did: the SDK retried our write
        // after its acknowledgement was lost, and the retry failed the condition.
        const taken = await this.index.entryAtOrBefore(partition, baseOffset);
        if (taken?.baseOffset === baseOffset && pending.writerId !== undefined && taken.writerId === pending.writerId) {
          this.notifier?.notify(partitionKey(partition));
          return { baseOffset, appendTime: taken.appendTime, attempts: attempt };
        }
        // Someone else: read the new tail and try after it.
        last = await this.index.last(partition);
      }
    }
    throw new AppendContentionError(this.maxAttempts);
  }

  /** Index entries from `fromOffset` on (recovery of idempotent retries looks for its writer id). */
  entriesFrom(partition: PartitionRef, fromOffset: number, limit: number) {
    return this.index.entriesFrom(partition, fromOffset, limit);
  }

  /** The entry covering `offset`, or the last one before it. */
  entryAtOrBefore(partition: PartitionRef, offset: number) {
    return this.index.entryAtOrBefore(partition, offset);
  }

  /** High watermark only: one strongly consistent 1-item query. */
  async highWatermark(partition: PartitionRef): Promise<number> {
    const last = await this.index.last(partition);
    return last ? last.baseOffset + last.recordCount : 0;
  }

  /**
   * The log start offset is the first record still within retention (exact at read
   * time: inside a compacted entry, its batch directory says where retention starts),
   * the high watermark the end of the last committed entry.
   */
  async bounds(partition: PartitionRef, retentionMs: number): Promise<PartitionBounds> {
    const [last, first] = await Promise.all([this.index.last(partition), this.index.first(partition)]);
    const highWatermark = last ? entryEnd(last) : 0;
    if (!first) return { logStartOffset: 0, highWatermark };
    const cutoff = retentionCutoff(retentionMs, this.clock());
    const retained = firstRetainedOffset(first, cutoff);
    if (retained !== undefined) return { logStartOffset: retained, highWatermark };
    // Expired entries not yet trimmed by maintenance: page forward to the first retained one.
    let from = entryEnd(first);
    for (;;) {
      const page = await this.index.entriesFrom(partition, from, READ_PAGE_ENTRIES);
      for (const entry of page.entries) {
        const offset = firstRetainedOffset(entry, cutoff);
        if (offset !== undefined) return { logStartOffset: Math.max(offset, from), highWatermark };
      }
      const lastSeen = page.entries.at(-1);
      if (!page.more || !lastSeen) return { logStartOffset: highWatermark, highWatermark };
      from = Math.max(from, entryEnd(lastSeen));
    }
  }

  /**
   * What a partition holds within retention: `segments` is the number of index entries
   * holding at least one retained record (an inline batch, a range of a produce object
   * or a compacted segment), `retainedBytes` the record bytes (key + value + headers) of
   * those entries; an entry partly past retention counts whole until it expires entirely.
   * Reads the whole index of the partition, which compaction keeps short.
   */
  async stats(partition: PartitionRef, retentionMs: number): Promise<{ segments: number; retainedBytes: number }> {
    const cutoff = retentionCutoff(retentionMs, this.clock());
    let segments = 0;
    let retainedBytes = 0;
    let covered = 0;
    for await (const entry of scanEntries(this.index, partition, 0, READ_PAGE_ENTRIES)) {
      // Entries a compaction already folded (it deletes them right after) count once, in the compacted entry.
      if (entryEnd(entry) <= covered) continue;
      covered = entryEnd(entry);
      if (entry.location.kind === 'expired' || lastAppendTime(entry) < cutoff) continue;
      segments += 1;
      retainedBytes += entry.sizeBytes;
    }
    return { segments, retainedBytes };
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
   */
  async read(
    partition: PartitionRef,
    fromOffset: number,
    limits: ReadLimits,
    retentionMs: number,
  ): Promise<ReadResult> {
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
  ): Promise<ReadResult> {
    const cutoff = retentionCutoff(retentionMs, this.clock());
    const selected: IndexEntry[] = [];
    let budgetRecords = limits.maxRecords;
    let budgetBytes = limits.maxBytes;
    // The next offset an entry must cover; everything below it is selected (or expired).
    let cursor = fromOffset;
    const take = (entry: IndexEntry): boolean => {
      for (const part of entryBatches(entry)) {
        const end = entryEnd(part);
        if (end <= cursor) continue;
        if (part.location.kind !== 'expired') {
          selected.push(part);
          budgetRecords -= end - Math.max(cursor, part.baseOffset);
          budgetBytes -= part.sizeBytes;
        }
        cursor = end;
        if (budgetRecords <= 0 || budgetBytes <= 0) return false;
      }
      return true;
    };

    // Every entry holds at least one record: a page never needs more entries than records are wanted.
    const pageSize = () => Math.min(READ_PAGE_ENTRIES, Math.max(1, budgetRecords));
    let page = await this.index.entriesFrom(partition, cursor, pageSize());
    for (;;) {
      if (page.entries.length === 0) {
        // Nothing starts at or after cursor: cursor is inside the last entry, or everything
        // from cursor on was folded into an entry below it since the previous page.
        const covering = await this.index.entryAtOrBefore(partition, cursor);
        if (covering && entryEnd(covering) > cursor) take(covering);
        break;
      }
      let stopped = false;
      for (const entry of page.entries) {
        if (entryEnd(entry) <= cursor) continue;
        if (entry.baseOffset > cursor) {
          // The entries for [cursor, entry.baseOffset) were folded into an entry below cursor
          // after this page's query began (or, at the start, cursor is inside a batch).
          const covering = await this.index.entryAtOrBefore(partition, cursor);
          if (covering && entryEnd(covering) > cursor && !take(covering)) {
            stopped = true;
            break;
          }
          // Covered by no entry: the range was past retention and trimmed.
          cursor = Math.max(cursor, entry.baseOffset);
          if (entryEnd(entry) <= cursor) continue;
        }
        if (!take(entry)) {
          stopped = true;
          break;
        }
      }
      if (stopped || !page.more) break;
      page = await this.index.entriesFrom(partition, cursor, pageSize());
    }

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
    return { records, nextOffset };
  }

  /**
   * Looks for the first record at or after `fromOffset` with timestamp >= `timestamp`,
   * reading one page of index entries. Entries whose maxTimestamp is below the target are
   * skipped without reading their bytes.
   */
  async findTimestamp(
    partition: PartitionRef,
    fromOffset: number,
    timestamp: number,
    cutoff: number,
  ): Promise<{ offset: number | undefined; scannedTo: number }> {
    const page = await this.index.entriesFrom(partition, fromOffset, READ_PAGE_ENTRIES);
    const candidates: IndexEntry[] = [];
    const covering = await this.index.entryAtOrBefore(partition, fromOffset);
    if (covering && covering.baseOffset < fromOffset && covering.baseOffset + covering.recordCount > fromOffset) {
      candidates.push(covering);
    }
    candidates.push(...page.entries);
    for (const entry of candidates) {
      if (entry.maxTimestamp < timestamp) continue;
      const records = await this.decode([entry]);
      const hit = records.find((r) => r.offset >= fromOffset && r.appendTime >= cutoff && r.timestamp >= timestamp);
      if (hit) return { offset: hit.offset, scannedTo: hit.offset };
    }
    const lastSeen = page.entries.at(-1);
    const scannedTo = lastSeen ? lastSeen.baseOffset + lastSeen.recordCount : fromOffset;
    return { offset: undefined, scannedTo: page.more ? scannedTo : Math.max(scannedTo, fromOffset) };
  }

  /** Fetches batch bytes (adjacent ranges of one object in a single GET) and decodes them. */
  private async decode(entries: IndexEntry[]): Promise<StoredRecord[]> {
    const bytesByEntry = await this.entryBytes(entries);
    return entries.flatMap((entry) => {
      if (entry.location.kind === 'expired') return [];
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

/** The first offset of `entry` appended at or after `cutoff`; undefined if the entry is wholly expired. */
const firstRetainedOffset = (entry: IndexEntry, cutoff: number): number | undefined => {
  if (entry.location.kind === 'expired' || lastAppendTime(entry) < cutoff) return undefined;
  if (entry.appendTime >= cutoff) return entry.baseOffset;
  return entry.batches?.find((b) => b.appendTime >= cutoff)?.baseOffset ?? entry.baseOffset;
};
