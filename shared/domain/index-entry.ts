/**
 * An entry of the partition index: one committed batch of records (or a compacted run of
 * them), keyed by its base offset, and the pure arithmetic over entries that the append
 * protocol, the reader, compaction and exactly-once recovery share.
 */

/**
 * Where the bytes of a batch live. `expired` is the data-less marker that replaces the
 * last entry of a partition once it is past retention: the entry must stay (appends
 * compute the next offset from it) but its bytes may go; readers treat it as expired.
 */
export type BatchLocation =
  | { kind: 'inline'; data: Uint8Array }
  | { kind: 'object'; objectKey: string; byteOffset: number; byteLength: number }
  | { kind: 'expired' }
  /**
   * A gap marker: offsets reserved by a writer that never wrote them (it died, or gave
   * its reservation up). Readers pass it as empty space; an entry inside its range (a
   * 1-offset marker covered by a bigger one, or by an entry that landed first) is skipped.
   * docs/offset-protocol.md, "Gaps".
   */
  | { kind: 'gap' };

/** Where one batch of a compacted entry starts. */
export interface BatchStart {
  baseOffset: number;
  /** Byte offset of the batch in the entry's object. */
  byteOffset: number;
  appendTime: number;
}

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
  /**
   * Compacted entries only: the folded batches in offset order (the first starts at the
   * entry's base offset and byte offset). Lets readers fetch just the batches they need
   * and keeps retention exact inside the entry without reading its bytes.
   */
  batches?: BatchStart[];
  /**
   * Compacted entries only: writer ids of folded batches that an idempotent retry may
   * still look for (writer id → the batch's base offset). Compaction keeps these for as
   * long as a claim can be retried, so recovery finds a commit whatever was folded.
   */
  keptWriters?: Record<string, number>;
  /**
   * Reservation number (slot) of the entry: the partition's offset counter hands out one
   * per reservation, in offset order. Compacted entries and gap markers cover a range of
   * slots, `slot` to `lastSlot`. Entries written before the counter existed have none
   * and count as slot -1; 1-offset gap markers have none (their slot is unknown).
   */
  slot?: number;
  /** The last slot of a compacted entry or gap marker covering several; else `slot`. */
  lastSlot?: number;
  /**
   * Inner gap markers only (1 offset, put inside a hole before the marker at its start,
   * see docs/offset-protocol.md): where the hole starts. Such a marker is empty space
   * only once everything from the hole's start up to it is covered.
   */
  holeStart?: number;
}

/** Whether the entry is an inner gap marker (part of a hole being marked offset by offset). */
export const isInnerMarker = (entry: IndexEntry): boolean => entry.holeStart !== undefined;

/** Whether the entry is a gap marker (no records: a dead reservation, passed by readers). */
export const isGap = (entry: IndexEntry): boolean => entry.location.kind === 'gap';

/**
 * The first slot the entry covers: -1 for an entry written before the counter existed,
 * undefined for a gap marker whose slots are unknown.
 */
export const firstSlot = (entry: IndexEntry): number | undefined => entry.slot ?? (isGap(entry) ? undefined : -1);

/** The last slot the entry covers (see {@link firstSlot}). */
export const lastSlot = (entry: IndexEntry): number | undefined =>
  entry.lastSlot ?? entry.slot ?? (isGap(entry) ? undefined : -1);

/** Writer ids of idempotent produce attempts start with this; only they survive compaction. */
export const IDEMPOTENT_WRITER_PREFIX = 'i.';

/** The base offset of `writerId`'s batch in this entry, if the entry holds it. */
export const batchOfWriter = (entry: IndexEntry, writerId: string): number | undefined =>
  entry.writerId === writerId ? entry.baseOffset : entry.keptWriters?.[writerId];

/** The append time of the batch at `baseOffset` in this entry (a folded batch's own, else the entry's). */
export const batchAppendTime = (entry: IndexEntry, baseOffset: number): number =>
  entry.batches?.find((b) => b.baseOffset === baseOffset)?.appendTime ?? entry.appendTime;

/** The offset after the entry's last record. */
export const entryEnd = (entry: IndexEntry): number => entry.baseOffset + entry.recordCount;

/** The append time of the entry's newest record (append times never decrease within a partition). */
export const lastAppendTime = (entry: IndexEntry): number => entry.batches?.at(-1)?.appendTime ?? entry.appendTime;

/**
 * A compacted entry as one entry per folded batch (each an object byte range); any other
 * entry as itself. Sizes of the parts are estimated in proportion to their bytes.
 */
export const entryBatches = (entry: IndexEntry): IndexEntry[] => {
  const { batches, location } = entry;
  if (!batches || batches.length === 0 || location.kind !== 'object') return [entry];
  const end = location.byteOffset + location.byteLength;
  return batches.map((batch, i) => {
    const next = batches[i + 1];
    const byteLength = (next?.byteOffset ?? end) - batch.byteOffset;
    return {
      baseOffset: batch.baseOffset,
      recordCount: (next?.baseOffset ?? entryEnd(entry)) - batch.baseOffset,
      appendTime: batch.appendTime,
      maxTimestamp: entry.maxTimestamp,
      sizeBytes: Math.round((entry.sizeBytes * byteLength) / location.byteLength),
      location: { kind: 'object', objectKey: location.objectKey, byteOffset: batch.byteOffset, byteLength },
    };
  });
};

/**
 * Whether `stored` is still the entry `expected` as a reader saw it: same base offset,
 * record count, append time and location (a rehomed or compacted entry differs in one of
 * them, an expiry marker in its location). The condition of the index's conditional
 * replace and remove.
 */
export const isSameEntry = (stored: IndexEntry, expected: IndexEntry): boolean => {
  if (
    stored.baseOffset !== expected.baseOffset ||
    stored.recordCount !== expected.recordCount ||
    stored.appendTime !== expected.appendTime ||
    stored.location.kind !== expected.location.kind
  ) {
    return false;
  }
  if (stored.location.kind !== 'object' || expected.location.kind !== 'object') return true;
  return (
    stored.location.objectKey === expected.location.objectKey &&
    stored.location.byteOffset === expected.location.byteOffset &&
    stored.location.byteLength === expected.location.byteLength
  );
};
