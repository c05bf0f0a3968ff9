/**
 * The partition index: for every partition, an ordered list of entries, one per batch
 * of records, keyed by the batch's base offset. DynamoDB holds it in production and,
 * through the same adapter, locally (dynalite). The index is the source of truth for
 * offsets: an entry that exists is committed, and nothing else is.
 */

import { PortError } from '#shared/domain/errors';
import type { IndexEntry } from '#shared/domain/index-entry';

/** A partition of one incarnation of a topic (`topicId` changes when a topic is recreated). */
export interface PartitionRef {
  tenantId: string;
  topicId: string;
  partition: number;
}

/** The partition's key in the index: `<tenantId>#<topicId>#<partition>`. */
export const partitionKey = (p: PartitionRef): string => `${p.tenantId}#${p.topicId}#${p.partition}`;

export {
  type BatchLocation,
  type BatchStart,
  batchAppendTime,
  batchOfWriter,
  entryBatches,
  entryEnd,
  firstSlot,
  IDEMPOTENT_WRITER_PREFIX,
  type IndexEntry,
  isGap,
  isInnerMarker,
  isSameEntry,
  lastAppendTime,
  lastSlot,
} from '#shared/domain/index-entry';

/** Another writer committed an entry at this base offset first. */
export class OffsetTakenError extends PortError {
  constructor(readonly baseOffset: number) {
    super('offset_taken', `Offset ${baseOffset} is already taken`);
  }
}

export interface EntryPage {
  entries: IndexEntry[];
  /** True when the partition may hold entries after the last one returned. */
  more: boolean;
}

/** Offsets handed out by the partition's counter: `[baseOffset, baseOffset + count)`, reservation number `slot`. */
export interface Reservation {
  baseOffset: number;
  slot: number;
}

/** The counter's state: the next offset and the next reservation number it hands out. */
export interface OffsetCounter {
  next: number;
  slot: number;
}

/**
 * What {@link LogIndex.reserve} does to a counter, applied to one held in memory (the
 * in-memory models; DynamoDB does it with `ADD next :count, slot :1`): hands out
 * `[next, next + count)` and the next reservation number.
 */
export const takeReservation = (counter: OffsetCounter, count: number): Reservation => {
  const reservation = { baseOffset: counter.next, slot: counter.slot };
  counter.next += count;
  counter.slot += 1;
  return reservation;
};

/** The counter item as stored: its next offset and slot, and the trim floor (offsets below it were trimmed). */
export interface CounterState extends OffsetCounter {
  floor: number;
}

export interface LogIndex {
  /** The entry with the highest base offset (strongly consistent), if any. */
  last(partition: PartitionRef): Promise<IndexEntry | undefined>;
  /** The entry with the lowest base offset (strongly consistent), if any. */
  first(partition: PartitionRef): Promise<IndexEntry | undefined>;
  /** The entry covering `offset` or, if none covers it, the last one before it. */
  entryAtOrBefore(partition: PartitionRef, offset: number): Promise<IndexEntry | undefined>;
  /** Entries with baseOffset >= fromOffset, in offset order (strongly consistent). */
  entriesFrom(partition: PartitionRef, fromOffset: number, limit: number): Promise<EntryPage>;
  /**
   * Commits `entry` if no entry has its base offset yet: one conditional single-item
   * write. Throws {@link OffsetTakenError} when another writer got there first.
   */
  append(partition: PartitionRef, entry: IndexEntry): Promise<void>;
  /**
   * Reserves `count` offsets on the partition's counter: one atomic increment of a
   * single item (`ADD next :count, slot :1`), which never conflicts. Undefined when the
   * partition has no counter yet ({@link initCounter} first).
   */
  reserve(partition: PartitionRef, count: number): Promise<Reservation | undefined>;
  /**
   * Creates the partition's counter at `counter` if it has none (one conditional put);
   * false when it exists already (another writer created it first: use that one).
   */
  initCounter(partition: PartitionRef, counter: OffsetCounter): Promise<boolean>;
  /** The partition's counter (strongly consistent), undefined when it has none. */
  readCounter(partition: PartitionRef): Promise<CounterState | undefined>;
  /**
   * Raises the counter's trim floor to `offset` before retention deletes the entries below
   * it (never lowers it; nothing happens when the partition has no counter). A reader that
   * finds no entry below an offset tells a trimmed head from a hole at the partition's start by it.
   */
  raiseFloor(partition: PartitionRef, offset: number): Promise<void>;
  /** Deletes the partition's counter: only for a deleted topic's data, after its entries. */
  removeCounter(partition: PartitionRef): Promise<void>;
  /**
   * Overwrites `expected` with `next` (same base offset) if the stored entry is still
   * `expected` (same record count, append time and location): compaction, rehoming and
   * expiry markers. One conditional single-item write; false when the entry changed or is gone.
   */
  replace(partition: PartitionRef, expected: IndexEntry, next: IndexEntry): Promise<boolean>;
  /** Deletes `expected` if it is still stored unchanged; false when it changed or is gone. */
  remove(partition: PartitionRef, expected: IndexEntry): Promise<boolean>;
}

/**
 * Every entry of the partition from `fromOffset` on, in offset order, one `entriesFrom`
 * page at a time: the one paging loop over the index (reads, bounds, compaction,
 * exactly-once recovery all use it). The next page is queried only once the previous one
 * was consumed, from just after the last base offset seen, so an entry that compaction
 * rewrote meanwhile is neither skipped nor stops the scan. `pageEntries` may be a
 * function, asked before each page (a reader shrinks its pages to what it still wants).
 * Stopping the iteration queries nothing more.
 */
export async function* scanEntries(
  index: Pick<LogIndex, 'entriesFrom'>,
  partition: PartitionRef,
  fromOffset: number,
  pageEntries: number | (() => number) = 100,
): AsyncGenerator<IndexEntry, void, undefined> {
  let from = fromOffset;
  for (;;) {
    const page = await index.entriesFrom(
      partition,
      from,
      typeof pageEntries === 'number' ? pageEntries : pageEntries(),
    );
    yield* page.entries;
    const lastSeen = page.entries.at(-1);
    if (!page.more || !lastSeen) return;
    from = lastSeen.baseOffset + 1;
  }
}
