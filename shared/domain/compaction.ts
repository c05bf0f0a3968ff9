import { HOUR, IDEMPOTENCY_RETENTION_MS } from '#shared/constants';
import {
  type BatchStart,
  batchAppendTime,
  entryEnd,
  firstSlot,
  IDEMPOTENT_WRITER_PREFIX,
  type IndexEntry,
  lastSlot,
} from '#shared/domain/index-entry';
import { classOfKey, classOutlives } from '#shared/domain/retention';
import { readBatchHeaders, stampAppendTime } from '#shared/domain/segment-codec';

/**
 * The pure planning of compaction: which entries to fold, what the folded segment and its
 * index entry are, what a rehomed entry becomes. The I/O (reads, PUTs, conditional index
 * writes and their order) is PartitionCompactor's, in shared/services/compaction.ts.
 */

export interface CompactionOptions {
  /** A segment of at least this many bytes is full: compaction aims for it. @default COMPACTION_DEFAULTS.targetBytes */
  targetBytes: number;
  /** A run of this many small entries is folded even below the target. @default 16 */
  minRunEntries: number;
  /** Most batches in one compacted entry (its directory lives in the index item). @default 1024 */
  maxBatches: number;
  /**
   * Entries are deleted or folded only once they are older than this: longer than any
   * append can take (Lambda's 15 minutes), see docs/retention-and-compaction.md.
   */
  safetyAgeMs: number;
}

export const COMPACTION_DEFAULTS: CompactionOptions = {
  targetBytes: 4 * 1024 * 1024,
  minRunEntries: 16,
  maxBatches: 1024,
  safetyAgeMs: 20 * 60 * 1000,
};

/** Stored bytes of an entry (0 for markers). */
export const entryBytes = (entry: IndexEntry): number =>
  entry.location.kind === 'object'
    ? entry.location.byteLength
    : entry.location.kind === 'inline'
      ? entry.location.data.byteLength
      : 0;

const batchCount = (entry: IndexEntry): number => entry.batches?.length ?? 1;

export interface CompactionPlan {
  /** Runs of consecutive entries to fold, each into one segment. */
  runs: IndexEntry[][];
  /** Entries below this offset will not be folded again (while retention stays). */
  settledThrough: number;
}

/**
 * Which consecutive entries to fold. `entries` are old enough to fold (older than the
 * safety age), not the partition's last, in offset order. A "full" entry (a segment of
 * the target size, or of the most batches) is left alone and ends a run; small entries
 * gather into runs of at most about twice the target. A run is folded when it reaches
 * the target, has `minRunEntries` entries, or can grow no more (a full entry or the
 * batch limit follows it); only the trailing run may wait for more entries.
 */
export const planCompaction = (entries: readonly IndexEntry[], options: CompactionOptions): CompactionPlan => {
  const runs: IndexEntry[][] = [];
  let run: IndexEntry[] = [];
  let runBytes = 0;
  let runBatches = 0;
  const isFull = (e: IndexEntry) => entryBytes(e) >= options.targetBytes || batchCount(e) >= options.maxBatches;
  const close = (closedBy: 'full' | 'limit' | 'end') => {
    const ripe = runBytes >= options.targetBytes || run.length >= options.minRunEntries || closedBy !== 'end';
    if (run.length >= 2 && ripe) runs.push(run);
    const trailing = closedBy === 'end' ? run : [];
    run = [];
    runBytes = 0;
    runBatches = 0;
    return trailing;
  };
  for (const entry of entries) {
    // Expiry and gap markers hold no records: never folded, and no run folds across one.
    if (entry.location.kind === 'expired' || entry.location.kind === 'gap') {
      close('full');
      continue;
    }
    if (isFull(entry)) {
      close('full');
      continue;
    }
    const previous = run.at(-1);
    if (
      previous &&
      (entryEnd(previous) !== entry.baseOffset ||
        runBatches + batchCount(entry) > options.maxBatches ||
        runBytes + entryBytes(entry) > 2 * options.targetBytes)
    ) {
      close('limit');
    }
    run.push(entry);
    runBytes += entryBytes(entry);
    runBatches += batchCount(entry);
    if (runBytes >= options.targetBytes) close('full');
  }
  const trailing = close('end');
  const lastEntry = entries.at(-1);
  const end = lastEntry ? entryEnd(lastEntry) : 0;
  // A trailing run that waits, or one folded below the target, may still take in newer entries.
  const foldedTrailing = runs.at(-1);
  const firstOfTrailing =
    trailing[0] ??
    (foldedTrailing && foldedTrailing.at(-1) === lastEntry && runBytesOf(foldedTrailing) < options.targetBytes
      ? foldedTrailing[0]
      : undefined);
  return { runs, settledThrough: firstOfTrailing ? firstOfTrailing.baseOffset : end };
};

const runBytesOf = (run: readonly IndexEntry[]) => run.reduce((n, e) => n + entryBytes(e), 0);

/** Entries whose object the lifecycle rule of its class could delete before the entry expires. */
export const needsRehome = (entry: IndexEntry, retentionMs: number): boolean =>
  entry.location.kind === 'object' && !classOutlives(classOfKey(entry.location.objectKey), retentionMs);

/** A folded run as one new segment: its bytes and the compacted index entry that points at them. */
export interface FoldedSegment {
  body: Buffer;
  entry: IndexEntry;
}

/**
 * The segment that folds `run` (consecutive entries, `bytes` their stored bytes): the
 * run's batches back to back, each stamped with its append time, and the compacted entry
 * with its batch directory. Writer ids an idempotent retry may still look for (those of
 * claims that have not expired, `now` minus the idempotency retention and an hour) are
 * kept in the entry.
 */
export const foldRun = (options: {
  run: readonly IndexEntry[];
  bytes: ReadonlyMap<IndexEntry, Uint8Array>;
  objectKey: string;
  now: number;
}): FoldedSegment => {
  const { run, bytes: bytesByEntry, objectKey, now } = options;
  const first = run[0] as IndexEntry;
  const parts: Buffer[] = [];
  const batches: BatchStart[] = [];
  let position = 0;
  let offset = first.baseOffset;
  for (const entry of run) {
    const bytes = stampAppendTime(bytesByEntry.get(entry) as Uint8Array, entry.appendTime);
    for (const header of readBatchHeaders(bytes)) {
      batches.push({ baseOffset: offset, byteOffset: position + header.byteOffset, appendTime: header.appendTime });
      offset += header.recordCount;
    }
    if (offset !== entryEnd(entry)) throw new Error(`Entry at ${entry.baseOffset} holds a different record count`);
    parts.push(bytes);
    position += bytes.byteLength;
  }
  const keptWriters: Record<string, number> = {};
  const keepSince = now - IDEMPOTENCY_RETENTION_MS - HOUR;
  for (const entry of run) {
    if (entry.writerId?.startsWith(IDEMPOTENT_WRITER_PREFIX) && entry.appendTime >= keepSince) {
      keptWriters[entry.writerId] = entry.baseOffset;
    }
    for (const [writerId, at] of Object.entries(entry.keptWriters ?? {})) {
      if (batchAppendTime(entry, at) >= keepSince) keptWriters[writerId] = at;
    }
  }
  const entry: IndexEntry = {
    baseOffset: first.baseOffset,
    recordCount: offset - first.baseOffset,
    appendTime: first.appendTime,
    maxTimestamp: Math.max(...run.map((e) => e.maxTimestamp)),
    sizeBytes: run.reduce((n, e) => n + e.sizeBytes, 0),
    location: { kind: 'object', objectKey, byteOffset: 0, byteLength: position },
    batches,
  };
  if (Object.keys(keptWriters).length > 0) entry.keptWriters = keptWriters;
  // The run's reservations, so that the gap rule still counts the slots around it.
  // (Runs hold no gap markers, so every slot is known; -1 for entries older than the counter.)
  const firstOfRun = firstSlot(first) ?? -1;
  const lastOfRun = lastSlot(run.at(-1) as IndexEntry) ?? -1;
  if (lastOfRun >= 0) {
    entry.slot = firstOfRun;
    if (lastOfRun !== firstOfRun) entry.lastSlot = lastOfRun;
  }
  return { body: Buffer.concat(parts, position), entry };
};

/**
 * Entries copied into one new object `objectKey` (same offsets and append times): the
 * object's bytes and, for each entry that had an object, the entry pointing into the new
 * one (`from` is the entry as read, for the conditional replace).
 */
export const rehomeEntries = (options: {
  entries: readonly IndexEntry[];
  bytes: ReadonlyMap<IndexEntry, Uint8Array>;
  objectKey: string;
}): { body: Buffer; moves: { from: IndexEntry; to: IndexEntry }[] } => {
  const parts: Uint8Array[] = [];
  const moves: { from: IndexEntry; to: IndexEntry }[] = [];
  let position = 0;
  for (const entry of options.entries) {
    if (entry.location.kind !== 'object') continue;
    const bytes = options.bytes.get(entry) as Uint8Array;
    const shift = position - entry.location.byteOffset;
    const to: IndexEntry = {
      ...entry,
      location: { kind: 'object', objectKey: options.objectKey, byteOffset: position, byteLength: bytes.byteLength },
    };
    if (entry.batches) to.batches = entry.batches.map((b) => ({ ...b, byteOffset: b.byteOffset + shift }));
    moves.push({ from: entry, to });
    parts.push(bytes);
    position += bytes.byteLength;
  }
  return { body: Buffer.concat(parts, position), moves };
};
