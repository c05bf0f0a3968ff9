import { type CompactionOptions, foldRun, needsRehome, planCompaction, rehomeEntries } from '#shared/domain/compaction';
import { retentionCutoff, segmentKey } from '#shared/domain/retention';
import type { IndexEntry, LogIndex, PartitionRef } from '#shared/ports/log-index';
import { entryEnd, lastAppendTime, scanEntries } from '#shared/ports/log-index';
import type { SegmentStore } from '#shared/ports/segment-store';
import type { PartitionReader } from './partition-reader';

export { COMPACTION_DEFAULTS, type CompactionOptions } from '#shared/domain/compaction';

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

/** One maintenance pass over a partition: what it works on, and where it counts its work. */
export interface PartitionPass {
  ref: PartitionRef;
  topic: TopicView;
  /** The partition's last entry, read at the start of the pass. */
  last: IndexEntry;
  now: number;
  work: PartitionWork;
}

/**
 * Retention trim, compaction and rehoming of one partition. Every index change is one
 * conditional single-item write on the entry as it was read, so two of these running
 * at once on the same partition do no harm: the loser's write fails and it moves on.
 */
export class PartitionCompactor {
  private readonly index: LogIndex;
  private readonly segments: SegmentStore;
  private readonly reader: PartitionReader;
  private readonly options: CompactionOptions;

  constructor(deps: { index: LogIndex; segments: SegmentStore; reader: PartitionReader; options: CompactionOptions }) {
    this.index = deps.index;
    this.segments = deps.segments;
    this.reader = deps.reader;
    this.options = deps.options;
  }

  /**
   * Removes entries wholly past retention from the head of the partition, oldest first.
   * The last entry stays (it carries the next offset): once expired it becomes a
   * data-less marker. Returns the first entry still retained, if any.
   */
  async trim(pass: PartitionPass): Promise<void> {
    const { ref, topic, last, now, work } = pass;
    const cutoff = retentionCutoff(topic.retentionMs, now);
    const deletable = now - this.options.safetyAgeMs;
    let covered = 0;
    // An expired entry goes only once the next one is seen to follow it without a hole: the
    // entry before a hole stays, so that readers can still count the slots missing there.
    let candidate: IndexEntry | undefined;
    const expired: IndexEntry[] = [];
    /** The first entry that stays after the deleted ones. */
    let stays: IndexEntry | undefined;
    for await (const entry of scanEntries(this.index, ref, 0)) {
      stays = entry;
      if (candidate && entryEnd(entry) > covered) {
        if (entry.baseOffset !== entryEnd(candidate)) break;
        expired.push(candidate);
        candidate = undefined;
      }
      if (entry.baseOffset >= last.baseOffset) break;
      if (entryEnd(entry) <= covered) {
        if (await this.index.remove(ref, entry)) work.coveredRemoved += 1;
        continue;
      }
      covered = entryEnd(entry);
      const isExpired = entry.location.kind === 'expired' || lastAppendTime(entry) < cutoff;
      if (!isExpired || lastAppendTime(entry) >= deletable) break;
      candidate = entry;
    }
    // The last of them stays as a data-less expiry marker: a partition whose first entry is
    // an expiry marker was trimmed, one whose first entry holds records past offset 0 has a
    // hole at its start (gaps.ts). Below it, the trim floor is raised before anything goes.
    const staysExpired =
      stays !== undefined &&
      stays.baseOffset === entryEnd(expired.at(-1) ?? stays) &&
      (stays.location.kind === 'expired' || (stays.baseOffset >= last.baseOffset && lastAppendTime(last) < cutoff));
    const kept = staysExpired ? undefined : expired.pop();
    const floor = kept ? kept.baseOffset : expired.length > 0 ? entryEnd(expired.at(-1) as IndexEntry) : 0;
    if (expired.length > 0) await this.index.raiseFloor(ref, floor);
    for (const entry of expired) {
      if (await this.index.remove(ref, entry)) {
        work.entriesRemoved += 1;
        work.bytesRemoved += entry.sizeBytes;
      }
    }
    if (kept && kept.location.kind !== 'expired') {
      const { batches: _batches, keptWriters: _keptWriters, ...rest } = kept;
      if (await this.index.replace(ref, kept, { ...rest, sizeBytes: 0, location: { kind: 'expired' } })) {
        work.markersWritten += 1;
        work.bytesRemoved += kept.sizeBytes;
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
  async compact(pass: PartitionPass & { from: number; maxEntries: number }): Promise<number> {
    const { ref, topic, last, from, now, maxEntries, work } = pass;
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
    const objectKey = segmentKey(topic, now);
    const segment = foldRun({ run, bytes: await this.reader.entryBytes(run), objectKey, now });
    await this.segments.put(objectKey, segment.body);
    if (!(await this.index.replace(ref, first, segment.entry))) return false;
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
    const objectKey = segmentKey(topic, now);
    const { body, moves } = rehomeEntries({ entries, bytes: await this.reader.entryBytes(entries), objectKey });
    await this.segments.put(objectKey, body);
    let done = 0;
    for (const { from, to } of moves) if (await this.index.replace(ref, from, to)) done += 1;
    return done;
  }
}
