/**
 * The partition index: for every partition, an ordered list of entries, one per batch
 * of records, keyed by the batch's base offset. DynamoDB holds it in production and,
 * through the same adapter, locally (dynalite). The index is the source of truth for
 * offsets: an entry that exists is committed, and nothing else is.
 */

/** A partition of one incarnation of a topic (`topicId` changes when a topic is recreated). */
export interface PartitionRef {
  tenantId: string;
  topicId: string;
  partition: number;
}

/** The partition's key in the index: `<tenantId>#<topicId>#<partition>`. */
export const partitionKey = (p: PartitionRef): string => `${p.tenantId}#${p.topicId}#${p.partition}`;

/** Where the bytes of a batch live. */
export type BatchLocation =
  | { kind: 'inline'; data: Uint8Array }
  | { kind: 'object'; objectKey: string; byteOffset: number; byteLength: number };

export interface IndexEntry {
  /** Offset of the entry's first record; the entry covers [baseOffset, baseOffset + recordCount). */
  baseOffset: number;
  recordCount: number;
  /** When the batch was appended (ms); never earlier than the previous entry's. */
  appendTime: number;
  /** Largest record timestamp in the batch (producer or append time). */
  maxTimestamp: number;
  /** Sum of the records' sizes (key + value + headers), for quotas and describe. */
  sizeBytes: number;
  location: BatchLocation;
  /** Identifies the produce request that wrote the entry (recovery of idempotent retries). */
  writerId?: string;
}

/** Another writer committed an entry at this base offset first. */
export class OffsetTakenError extends Error {
  constructor(readonly baseOffset: number) {
    super(`Offset ${baseOffset} is already taken`);
    this.name = 'OffsetTakenError';
  }
}

export interface EntryPage {
  entries: IndexEntry[];
  /** True when the partition may hold entries after the last one returned. */
  more: boolean;
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
}
