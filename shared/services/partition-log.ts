import { MAX_APPEND_ATTEMPTS } from '#shared/constants';
import { PortError } from '#shared/domain/errors';
import { retentionCutoff } from '#shared/domain/retention';
import type { IndexEntry, LogIndex, PartitionRef } from '#shared/ports/log-index';
import { entryEnd, lastAppendTime, OffsetTakenError, partitionKey, scanEntries } from '#shared/ports/log-index';
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

/** Index entries a partition's state is computed from: one Query, whatever the partition holds. */
export const STATE_PAGE_ENTRIES = 100;

/** A partition's bounds and what it holds within retention, from at most two index reads. */
export interface PartitionSummary extends PartitionBounds {
  /** Index entries (stored batches) holding at least one record within retention. */
  segments: number;
  /** Record bytes (key + value + headers) of those entries; an entry partly past retention counts whole. */
  retainedBytes: number;
  /**
   * False when the partition holds more than {@link STATE_PAGE_ENTRIES} index entries:
   * `segments` and `retainedBytes` then count the first page of them only (the bounds stay exact).
   */
  statsComplete: boolean;
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
  /**
   * The partition's last entry, read already (started before the caller's other work, so
   * that the read runs alongside it). Reading the tail early is the same as a slow step 1:
   * the conditional write decides. @default read at step 1
   */
  tail?: Promise<IndexEntry | undefined>;
  /** Awaited (with the tail read) before the first conditional write; a rejection stops the append. */
  gate?: Promise<unknown>;
}

export interface PartitionLogDeps {
  index: LogIndex;
  clock: () => number;
  /** Wakes this process's long polls on a commit. @default none */
  notifier?: AppendNotifier;
  /** Compare-and-set rounds before an append gives up. @default MAX_APPEND_ATTEMPTS */
  maxAttempts?: number;
}

/**
 * The append protocol of one partition: where the next batch goes, the high watermark and
 * the log's bounds. docs/offset-protocol.md has the timeline and its crash points. In
 * short: the index holds one entry per committed batch, keyed by base offset; an append
 * reads the last entry, computes the next base offset and writes its entry there on the
 * condition that the key is free. Offsets are dense by construction (an entry exists or it
 * does not), so there is never a hole for a reader to wait on. Reading records is
 * PartitionReader's (partition-reader.ts).
 */
export class PartitionLog {
  private readonly index: LogIndex;
  private readonly clock: () => number;
  private readonly notifier: AppendNotifier | undefined;
  private readonly maxAttempts: number;

  constructor(deps: PartitionLogDeps) {
    this.index = deps.index;
    this.clock = deps.clock;
    this.notifier = deps.notifier;
    this.maxAttempts = deps.maxAttempts ?? MAX_APPEND_ATTEMPTS;
  }

  /**
   * Commits `pending` as the partition's next batch and answers its base offset.
   * Timeline of one append (each step a single-item call, no transaction):
   *
   *   1. Read the partition's last entry L (strongly consistent, 1 item).
   *   2. If the writer's deadline has passed, stop (LeaseExpiredError): an exactly-once
   *      takeover may be writing this request now, so this attempt must send nothing more.
   *   3. baseOffset := L.baseOffset + L.recordCount (0 on an empty partition);
   *      appendTime := max(now, L.appendTime), so append times never go backwards within a
   *      partition whatever the clocks of the functions that write it.
   *   4. PutItem the entry at key baseOffset IF attribute_not_exists(sk). Of two writers
   *      that computed the same baseOffset exactly one succeeds: the offset is the key.
   *   5. Written: wake this process's long polls, answer baseOffset. Committed from here:
   *      every later reader sees the batch.
   *   6. Condition failed (OffsetTakenError): an entry holds baseOffset. Read it:
   *      a. Lost acknowledgement: it carries our writerId. Our PutItem landed at step 4 but
   *         its response was lost (timeout, reset), the SDK retried the identical write,
   *         and the retry failed the condition against our own item. The append
   *         succeeded: answer baseOffset with the stored append time (as step 5).
   *      b. Another writer's entry: read the new last entry and go to 2, at most
   *         `maxAttempts` rounds (then AppendContentionError, answered 503).
   *
   * A crash before 4 leaves nothing; after 4 the batch is committed whether or not anyone
   * heard of it (an idempotent retry finds it by writerId, docs/exactly-once.md).
   */
  async append(partition: PartitionRef, pending: PendingEntry, options: AppendOptions = {}): Promise<AppendResult> {
    let [last] = await Promise.all([options.tail ?? this.index.last(partition), options.gate]);
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      if (options.deadline !== undefined && this.clock() >= options.deadline) {
        throw new LeaseExpiredError(options.deadline);
      }
      const baseOffset = last ? entryEnd(last) : 0;
      const appendTime = Math.max(this.clock(), last?.appendTime ?? 0);
      try {
        const { usesAppendTime, ...rest } = pending;
        const maxTimestamp = usesAppendTime ? Math.max(pending.maxTimestamp, appendTime) : pending.maxTimestamp;
        await this.index.append(partition, { ...rest, maxTimestamp, baseOffset, appendTime });
        this.notifier?.notify(partitionKey(partition));
        return { baseOffset, appendTime, attempts: attempt };
      } catch (error) {
        if (!(error instanceof OffsetTakenError)) throw error;
        const taken = await this.index.entryAtOrBefore(partition, baseOffset);
        if (taken?.baseOffset === baseOffset && pending.writerId !== undefined && taken.writerId === pending.writerId) {
          // 6a: our own write, its acknowledgement lost.
          this.notifier?.notify(partitionKey(partition));
          return { baseOffset, appendTime: taken.appendTime, attempts: attempt };
        }
        // 6b: someone else's: read the new tail and try after it.
        last = await this.index.last(partition);
      }
    }
    throw new AppendContentionError(this.maxAttempts);
  }

  /** The partition's last entry (one strongly consistent 1-item query): pass it as {@link AppendOptions.tail}. */
  tail(partition: PartitionRef): Promise<IndexEntry | undefined> {
    return this.index.last(partition);
  }

  /** High watermark only: one strongly consistent 1-item query. */
  async highWatermark(partition: PartitionRef): Promise<number> {
    const last = await this.index.last(partition);
    return last ? entryEnd(last) : 0;
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
    // Expired entries not yet trimmed by maintenance: scan forward to the first retained one.
    const from = entryEnd(first);
    for await (const entry of scanEntries(this.index, partition, from)) {
      const offset = firstRetainedOffset(entry, cutoff);
      if (offset !== undefined) return { logStartOffset: Math.max(offset, from), highWatermark };
    }
    return { logStartOffset: highWatermark, highWatermark };
  }

  /**
   * Bounds and retained size of the partition for a describe, at a cost that does not grow
   * with the partition: the first {@link STATE_PAGE_ENTRIES} index entries (one Query) and,
   * only when there are more, the last entry (one 1-item Query). Compaction keeps a
   * partition's index short, so the first page is normally all of it and the figures are
   * exact; beyond it they count that page (`statsComplete: false`). Only when every entry
   * of the page is past retention (maintenance has not trimmed them yet) does the log start
   * offset take a further scan, as {@link bounds} does.
   */
  async summary(partition: PartitionRef, retentionMs: number): Promise<PartitionSummary> {
    const page = await this.index.entriesFrom(partition, 0, STATE_PAGE_ENTRIES);
    const last = page.more ? await this.index.last(partition) : page.entries.at(-1);
    const highWatermark = last ? entryEnd(last) : 0;
    const cutoff = retentionCutoff(retentionMs, this.clock());
    let segments = 0;
    let retainedBytes = 0;
    let covered = 0;
    let logStartOffset: number | undefined;
    for (const entry of page.entries) {
      // Entries a compaction already folded (it deletes them right after) count once, in the compacted entry.
      if (entryEnd(entry) <= covered) continue;
      const retained = firstRetainedOffset(entry, cutoff);
      if (retained !== undefined) {
        logStartOffset ??= Math.max(retained, covered);
        segments += 1;
        retainedBytes += entry.sizeBytes;
      }
      covered = entryEnd(entry);
    }
    if (logStartOffset === undefined) {
      logStartOffset = page.more ? (await this.bounds(partition, retentionMs)).logStartOffset : highWatermark;
    }
    return { logStartOffset, highWatermark, segments, retainedBytes, statsComplete: !page.more };
  }

  /** The entry covering `offset`, or the last one before it. */
  entryAtOrBefore(partition: PartitionRef, offset: number): Promise<IndexEntry | undefined> {
    return this.index.entryAtOrBefore(partition, offset);
  }

  /** Index entries from `fromOffset` on, in offset order (exactly-once recovery looks for its writer id). */
  scan(partition: PartitionRef, fromOffset: number): AsyncGenerator<IndexEntry, void, undefined> {
    return scanEntries(this.index, partition, fromOffset);
  }
}

/** The first offset of `entry` appended at or after `cutoff`; undefined if the entry is wholly expired. */
const firstRetainedOffset = (entry: IndexEntry, cutoff: number): number | undefined => {
  if (entry.location.kind === 'expired' || lastAppendTime(entry) < cutoff) return undefined;
  if (entry.appendTime >= cutoff) return entry.baseOffset;
  return entry.batches?.find((b) => b.appendTime >= cutoff)?.baseOffset ?? entry.baseOffset;
};
