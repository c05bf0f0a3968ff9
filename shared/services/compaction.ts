import { HOUR, IDEMPOTENCY_RETENTION_MS } from '#shared/constants';
import { classOfKey, classOutlives, retentionCutoff, segmentKey } from '#shared/domain/retention';
import { readBatchHeaders, stampAppendTime } from '#shared/domain/segment-codec';
import type { BatchStart, IndexEntry, LogIndex, PartitionRef } from '#shared/ports/log-index';
import {
  batchAppendTime,
  entryEnd,
  IDEMPOTENT_WRITER_PREFIX,
  lastAppendTime,
  scanEntries,
} from '#shared/ports/log-index';
import type { SegmentStore } from '#shared/ports/segment-store';
import type { PartitionLog } from './partition-log';

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
    if (entry.location.kind === 'expired') {
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

/** The index writes and object writes one partition's maintenance did. */
export interface PartitionWork {
  entriesRemoved: number;
  markersWritten: number;
  segmentsWritten: number;
  entriesFolded: number;
  entriesRehomed: number;
  /** Leftovers of an interrupted compaction, removed. */
  coveredRemoved: number;
  /** Record bytes of the entries trimmed (and marked), for the tenant's storage count. */
  bytesRemoved: number;
}

export const emptyWork = (): PartitionWork => ({
  entriesRemoved: 0,
  markersWritten: 0,
  segmentsWritten: 0,
  entriesFolded: 0,
  entriesRehomed: 0,
  coveredRemoved: 0,
  bytesRemoved: 0,
});

export interface TopicView {
  tenantId: string;
  topicId: string;
  retentionMs: number;
}

/** Entries whose object the lifecycle rule of its class could delete before the entry expires. */
export const needsRehome = (entry: IndexEntry, retentionMs: number): boolean =>
  entry.location.kind === 'object' && !classOutlives(classOfKey(entry.location.objectKey), retentionMs);

/**
 * Retention trim, compaction and rehoming of one partition. Every index change is one
 * conditional single-item write on the entry as it was read, so two of these running
 * at once on the same partition do no harm: the loser's write fails and it moves on.
 */
export class PartitionCompactor {
  constructor(
    private readonly index: LogIndex,
    private readonly segments: SegmentStore,
    private readonly log: PartitionLog,
    private readonly options: CompactionOptions,
  ) {}

  /**
   * Removes entries wholly past retention from the head of the partition, oldest first.
   * The last entry stays (it carries the next offset): once expired it becomes a
   * data-less marker. Returns the first entry still retained, if any.
   */
  async trim(ref: PartitionRef, topic: TopicView, last: IndexEntry, now: number, work: PartitionWork): Promise<void> {
    const cutoff = retentionCutoff(topic.retentionMs, now);
    const deletable = now - this.options.safetyAgeMs;
    let covered = 0;
    for await (const entry of scanEntries(this.index, ref, 0)) {
      if (entry.baseOffset >= last.baseOffset) break;
      if (entryEnd(entry) <= covered) {
        if (await this.index.remove(ref, entry)) work.coveredRemoved += 1;
        continue;
      }
      covered = entryEnd(entry);
      const expired = entry.location.kind === 'expired' || lastAppendTime(entry) < cutoff;
      if (!expired || lastAppendTime(entry) >= deletable) break;
      if (await this.index.remove(ref, entry)) {
        work.entriesRemoved += 1;
        work.bytesRemoved += entry.sizeBytes;
      }
    }
    if (last.location.kind !== 'expired' && lastAppendTime(last) < cutoff) {
      const { batches: _batches, ...rest } = last;
      const marker: IndexEntry = { ...rest, sizeBytes: 0, location: { kind: 'expired' } };
      if (await this.index.replace(ref, last, marker)) {
        work.markersWritten += 1;
        work.bytesRemoved += last.sizeBytes;
      }
    }
  }

  /**
   * Folds runs of small entries from `from` on into segments, rehomes entries whose
   * object's retention class is now too short, and returns the new settled checkpoint.
   * Looks only at entries older than the safety age, never at the last one (except to
   * rehome it), and at most `maxEntries` of them.
   */
  async compact(
    ref: PartitionRef,
    topic: TopicView,
    last: IndexEntry,
    from: number,
    now: number,
    maxEntries: number,
    work: PartitionWork,
  ): Promise<number> {
    const foldable = now - this.options.safetyAgeMs;
    const cutoff = retentionCutoff(topic.retentionMs, now);
    const candidates: IndexEntry[] = [];
    let covered = from;
    let scanned = 0;
    for await (const entry of scanEntries(this.index, ref, from)) {
      if (entry.baseOffset >= last.baseOffset || lastAppendTime(entry) >= foldable || scanned >= maxEntries) break;
      scanned += 1;
      if (entryEnd(entry) <= covered) {
        // Left by a compaction that stopped between its writes: finish its deletes.
        if (entry.baseOffset >= from && (await this.index.remove(ref, entry))) work.coveredRemoved += 1;
        continue;
      }
      covered = entryEnd(entry);
      // Expired entries are the trim's; folding them would only copy bytes no one may read.
      if (lastAppendTime(entry) < cutoff) continue;
      candidates.push(entry);
    }

    const plan = planCompaction(candidates, this.options);
    const folded = new Set<IndexEntry>();
    for (const run of plan.runs) {
      if (await this.fold(ref, topic, run, now)) {
        work.segmentsWritten += 1;
        work.entriesFolded += run.length;
      }
      for (const e of run) folded.add(e);
    }
    const rehome = candidates.filter((e) => !folded.has(e) && needsRehome(e, topic.retentionMs));
    if (needsRehome(last, topic.retentionMs)) rehome.push(last);
    if (rehome.length > 0) work.entriesRehomed += await this.rehome(ref, topic, rehome, now);
    return candidates.length === 0 ? covered : plan.settledThrough;
  }

  /**
   * Folds `run` into one new segment. Timeline (docs/retention-and-compaction.md):
   *   1. PUT the segment (the run's batches back to back, each stamped with its append time);
   *   2. overwrite the run's first entry with the compacted entry, on the condition that it
   *      is unchanged — from here readers see every record once through it, and skip the
   *      remaining folded entries because their range is covered;
   *   3. delete the other folded entries one by one in offset order, each on the condition
   *      that it is unchanged.
   * A crash after 1 leaves an orphan object (cleanup removes it); after 2, covered entries
   * (the next run removes them).
   */
  private async fold(ref: PartitionRef, topic: TopicView, run: IndexEntry[], now: number): Promise<boolean> {
    const first = run[0] as IndexEntry;
    const bytesByEntry = await this.log.entryBytes(run);
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
    // An idempotent retry may look for a folded batch's writer id until its claim expires.
    const keptWriters: Record<string, number> = {};
    const keepSince = now - IDEMPOTENCY_RETENTION_MS - HOUR;
    for (const entry of run) {
      if (entry.writerId?.startsWith(IDEMPOTENT_WRITER_PREFIX) && entry.appendTime >= keepSince) {
        keptWriters[entry.writerId] = entry.baseOffset;
      }
      for (const [writerId, offset] of Object.entries(entry.keptWriters ?? {})) {
        if (batchAppendTime(entry, offset) >= keepSince) keptWriters[writerId] = offset;
      }
    }
    const objectKey = segmentKey(topic, now);
    await this.segments.put(objectKey, Buffer.concat(parts, position));
    const compacted: IndexEntry = {
      baseOffset: first.baseOffset,
      recordCount: offset - first.baseOffset,
      appendTime: first.appendTime,
      maxTimestamp: Math.max(...run.map((e) => e.maxTimestamp)),
      sizeBytes: run.reduce((n, e) => n + e.sizeBytes, 0),
      location: { kind: 'object', objectKey, byteOffset: 0, byteLength: position },
      batches,
    };
    if (Object.keys(keptWriters).length > 0) compacted.keptWriters = keptWriters;
    if (!(await this.index.replace(ref, first, compacted))) return false;
    for (const entry of run.slice(1)) await this.index.remove(ref, entry);
    return true;
  }

  /**
   * Copies the entries' bytes into one new object in the topic's current retention
   * class and points each entry there (same offsets and append times): a raised
   * retention must not let the lifecycle rule of a shorter class delete bytes that are
   * still readable. Nothing is deleted, so no reader or writer can tell.
   */
  private async rehome(ref: PartitionRef, topic: TopicView, entries: IndexEntry[], now: number): Promise<number> {
    const bytesByEntry = await this.log.entryBytes(entries);
    const objectKey = segmentKey(topic, now);
    const parts: Uint8Array[] = [];
    const moved: IndexEntry[] = [];
    let position = 0;
    for (const entry of entries) {
      if (entry.location.kind !== 'object') continue;
      const bytes = bytesByEntry.get(entry) as Uint8Array;
      const shift = position - entry.location.byteOffset;
      const next: IndexEntry = {
        ...entry,
        location: { kind: 'object', objectKey, byteOffset: position, byteLength: bytes.byteLength },
      };
      if (entry.batches) next.batches = entry.batches.map((b) => ({ ...b, byteOffset: b.byteOffset + shift }));
      moved.push(next);
      parts.push(bytes);
      position += bytes.byteLength;
    }
    await this.segments.put(objectKey, Buffer.concat(parts, position));
    let done = 0;
    for (const [i, next] of moved.entries()) {
      if (await this.index.replace(ref, entries[i] as IndexEntry, next)) done += 1;
    }
    return done;
  }
}
