import { MAX_APPEND_ATTEMPTS } from '#shared/constants';
import { recordSize, type StoredRecord } from '#shared/domain/records';
import { retentionCutoff } from '#shared/domain/retention';
import { decodeBatches } from '#shared/domain/segment-codec';
import type { IndexEntry, LogIndex, PartitionRef } from '#shared/ports/log-index';
import { OffsetTakenError, partitionKey } from '#shared/ports/log-index';
import type { SegmentStore } from '#shared/ports/segment-store';
import type { AppendNotifier } from './append-notifier';

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
export class AppendContentionError extends Error {
  constructor(readonly attempts: number) {
    super(`Append lost ${attempts} compare-and-set rounds to concurrent writers`);
    this.name = 'AppendContentionError';
  }
}

/**
 * The append was not sent because the writer's lease ends too soon: another attempt may
 * take over the request, so this one must not write any more (docs/exactly-once.md).
 */
export class LeaseExpiredError extends Error {
  constructor(readonly deadline: number) {
    super(`The writer's deadline ${deadline} has passed; no further append is sent`);
    this.name = 'LeaseExpiredError';
  }
}

export interface AppendOptions {
  /** No conditional write is sent at or after this time (ms, same clock). */
  deadline?: number;
}

/** Entries fetched per index query while reading. */
const READ_PAGE_ENTRIES = 100;

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

  /** High watermark only: one strongly consistent 1-item query. */
  async highWatermark(partition: PartitionRef): Promise<number> {
    const last = await this.index.last(partition);
    return last ? last.baseOffset + last.recordCount : 0;
  }

  /**
   * The log start offset is the first record still within retention (exact at read
   * time), the high watermark the end of the last committed entry.
   */
  async bounds(partition: PartitionRef, retentionMs: number): Promise<PartitionBounds> {
    const [last, first] = await Promise.all([this.index.last(partition), this.index.first(partition)]);
    const highWatermark = last ? last.baseOffset + last.recordCount : 0;
    if (!first) return { logStartOffset: 0, highWatermark };
    const cutoff = retentionCutoff(retentionMs, this.clock());
    if (first.appendTime >= cutoff) return { logStartOffset: first.baseOffset, highWatermark };
    // Expired entries not yet trimmed by maintenance: page forward to the first retained one.
    let from = first.baseOffset + first.recordCount;
    for (;;) {
      const page = await this.index.entriesFrom(partition, from, READ_PAGE_ENTRIES);
      const retained = page.entries.find((e) => e.appendTime >= cutoff);
      if (retained) return { logStartOffset: retained.baseOffset, highWatermark };
      const lastSeen = page.entries.at(-1);
      if (!page.more || !lastSeen) return { logStartOffset: highWatermark, highWatermark };
      from = lastSeen.baseOffset + lastSeen.recordCount;
    }
  }

  /**
   * Reads records from `fromOffset` on, in offset order, stopping at `maxRecords` or
   * when the next record would exceed `maxBytes` (but always returning at least one
   * record when one exists, so a large record cannot stall a consumer).
   */
  async read(
    partition: PartitionRef,
    fromOffset: number,
    limits: ReadLimits,
    retentionMs: number,
  ): Promise<ReadResult> {
    const cutoff = retentionCutoff(retentionMs, this.clock());
    const selected: IndexEntry[] = [];
    let budgetRecords = limits.maxRecords;
    let budgetBytes = limits.maxBytes;
    const take = (entry: IndexEntry): boolean => {
      const end = entry.baseOffset + entry.recordCount;
      if (end <= fromOffset) return true;
      selected.push(entry);
      const skipped = Math.max(0, fromOffset - entry.baseOffset);
      budgetRecords -= entry.recordCount - skipped;
      budgetBytes -= entry.sizeBytes;
      return budgetRecords > 0 && budgetBytes > 0;
    };

    let page = await this.index.entriesFrom(partition, fromOffset, READ_PAGE_ENTRIES);
    const firstEntry = page.entries[0];
    if (firstEntry === undefined || firstEntry.baseOffset > fromOffset) {
      // fromOffset is inside a batch (a consumer stopped mid-batch): start with that batch.
      const covering = await this.index.entryAtOrBefore(partition, fromOffset);
      if (covering && covering.baseOffset + covering.recordCount > fromOffset) take(covering);
    }
    let more = true;
    while (more && budgetRecords > 0 && budgetBytes > 0) {
      for (const entry of page.entries) {
        if (!take(entry)) {
          more = false;
          break;
        }
      }
      const lastSeen = page.entries.at(-1);
      if (!more || !page.more || !lastSeen) break;
      page = await this.index.entriesFrom(partition, lastSeen.baseOffset + lastSeen.recordCount, READ_PAGE_ENTRIES);
    }

    const decoded = await this.decode(selected);
    const records: StoredRecord[] = [];
    let bytes = 0;
    let nextOffset = fromOffset;
    for (const record of decoded) {
      if (record.offset < fromOffset) continue;
      nextOffset = record.offset + 1;
      if (record.appendTime < cutoff) continue;
      const size = recordSize(record);
      if (records.length > 0 && (records.length >= limits.maxRecords || bytes + size > limits.maxBytes)) {
        nextOffset = record.offset;
        break;
      }
      records.push(record);
      bytes += size;
    }
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
    interface Range {
      objectKey: string;
      start: number;
      end: number;
      entries: IndexEntry[];
    }
    const ranges: Range[] = [];
    for (const entry of entries) {
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
    const bytesByEntry = new Map<IndexEntry, Uint8Array>();
    await Promise.all(
      ranges.map(async (range) => {
        const bytes = await this.segments.getRange(range.objectKey, range.start, range.end - range.start);
        for (const entry of range.entries) {
          if (entry.location.kind !== 'object') continue;
          const at = entry.location.byteOffset - range.start;
          bytesByEntry.set(entry, bytes.subarray(at, at + entry.location.byteLength));
        }
      }),
    );
    return entries.flatMap((entry) => {
      const bytes = entry.location.kind === 'inline' ? entry.location.data : bytesByEntry.get(entry);
      if (!bytes) throw new Error(`No bytes for entry at ${entry.baseOffset}`);
      return decodeBatches(bytes, { baseOffset: entry.baseOffset, appendTime: entry.appendTime });
    });
  }
}
