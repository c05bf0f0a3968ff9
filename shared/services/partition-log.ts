import { MAX_APPEND_ATTEMPTS, RESERVATION_BOUND_MS } from '#shared/constants';
import { LruMap } from '#shared/domain/bounded-cache';
import { PortError } from '#shared/domain/errors';
import { retentionCutoff } from '#shared/domain/retention';
import type { IndexEntry, LogIndex, PartitionRef, Reservation } from '#shared/ports/log-index';
import {
  entryEnd,
  firstSlot,
  isGap,
  lastAppendTime,
  lastSlot,
  OffsetTakenError,
  partitionKey,
  scanEntries,
} from '#shared/ports/log-index';
import type { AppendNotifier } from './append-notifier';
import { gapMarker } from './gaps';

/** A batch ready to be committed: its bytes are already inline or in a segment object. */
export interface PendingEntry extends Omit<IndexEntry, 'baseOffset' | 'appendTime'> {
  /** Some records carry no timestamp and take the append time (counts for maxTimestamp). */
  usesAppendTime: boolean;
}

export interface AppendResult {
  baseOffset: number;
  appendTime: number;
  /** Reservations it took (1 unless a reservation was fenced by readers or given up). */
  attempts: number;
}

export interface PartitionBounds {
  logStartOffset: number;
  highWatermark: number;
}

/** Partitions whose era an instance remembers. */
const ERA_PARTITIONS = 10_000;

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
    super('append_contention', `Append gave up after ${attempts} reservations`);
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
  /** No reservation and no put is sent at or after this time (ms, same clock). */
  deadline?: number;
  /** Awaited before the reservation (a write): the quota admission. A rejection stops the append. */
  reserveGate?: Promise<unknown>;
  /**
   * Awaited (alongside the reservation) before the entry's put: the segment PUT, the topic's
   * validation. A rejection stops the append; a reservation taken already is marked as a gap.
   */
  gate?: Promise<unknown>;
}

export interface PartitionLogDeps {
  index: LogIndex;
  clock: () => number;
  /** Wakes this process's long polls on a commit. @default none */
  notifier?: AppendNotifier;
  /** Reservations before an append gives up. @default MAX_APPEND_ATTEMPTS */
  maxAttempts?: number;
  /** The writer bound W: no put for a reservation older than this. @default RESERVATION_BOUND_MS */
  reservationBoundMs?: number;
}

/** A reservation as the writer holds it: its offsets, its slot, and when the reserving call was sent. */
interface Held extends Reservation {
  sentAt: number;
}

/**
 * The append protocol of one partition: where the next batch goes, the high watermark and
 * the log's bounds. docs/offset-protocol.md has the timeline and its crash points. In
 * short: while one writer appends at a time, an append writes its entry where the last one
 * ends, on the condition that the key is free (one read, one write). The first time two
 * writers race for the tail, the loser fences it and creates the partition's counter; from
 * then on an append reserves its offsets on the counter (one atomic increment, which never
 * conflicts), then writes its entry at the reserved base offset on the same condition. A
 * writer that dies between the two leaves a hole, which readers wait on for a bounded time
 * and then mark as a gap (gaps.ts). Reading records is PartitionReader's (partition-reader.ts).
 */
export class PartitionLog {
  private readonly index: LogIndex;
  private readonly clock: () => number;
  private readonly notifier: AppendNotifier | undefined;
  private readonly maxAttempts: number;
  private readonly reservationBoundMs: number;
  /**
   * What this instance knows of a partition's era: `counter`, it saw the counter (appends
   * reserve at once; a counter is never removed from a live topic); `tail`, it read the
   * counter once and found none (later appends read only the tail). Unknown: read both.
   */
  private readonly eras = new LruMap<string, 'tail' | 'counter'>(ERA_PARTITIONS);

  constructor(deps: PartitionLogDeps) {
    this.index = deps.index;
    this.clock = deps.clock;
    this.notifier = deps.notifier;
    this.maxAttempts = deps.maxAttempts ?? MAX_APPEND_ATTEMPTS;
    this.reservationBoundMs = deps.reservationBoundMs ?? RESERVATION_BOUND_MS;
  }

  /**
   * Commits `pending` as the partition's next batch and answers its base offset.
   * Timeline of one append (each step a single-item call, no transaction):
   *
   *   0. The tail era (a partition starts in it, and this instance has not seen its counter):
   *      read the last entry and the counter together, beside the admission and the gate.
   *      No counter, and the tail carries no slot: PutItem the entry (no slot) at the tail's
   *      end IF attribute_not_exists(sk), and answer (5). The condition failed and the item
   *      is not ours (6a), or the partition has a counter: offsets come from the counter from
   *      now on (for this instance, for good), go to 1. A writer that finds no counter there
   *      ends the tail era for everyone: see {@link createCounter} (the fence).
   *   1. If the writer's deadline has passed, stop (LeaseExpiredError): an exactly-once
   *      takeover may be writing this request now, so this attempt sends nothing more.
   *   2. Reserve: `UpdateItem ADD next :n, slot :1` on the partition's counter item
   *      (ReturnValues UPDATED_NEW): baseOffset := next − n, slot := slot − 1. Never
   *      conflicts. No counter yet: fence the tail era and create it, reserve.
   *   3. Before the put: the deadline again, and the reservation's age: sent more than the
   *      writer bound W ago, the writer marks its reservation as a gap itself and goes to 1.
   *   4. PutItem the entry at key baseOffset (slot, writer id) IF attribute_not_exists(sk).
   *      No other writer holds this offset (the counter gave it to us alone).
   *   5. Written: wake this process's long polls, answer baseOffset. Committed from here:
   *      every later reader sees the batch.
   *   6. Condition failed (OffsetTakenError): an item holds baseOffset. Read it:
   *      a. Lost acknowledgement: it carries our writerId. Our PutItem landed but its
   *         response was lost (timeout, reset), the SDK retried the identical write,
   *         and the retry failed the condition against our own item. The append
   *         succeeded: answer baseOffset with the stored append time (as step 5).
   *      b. A gap marker: readers waited the gap bound on our reservation and fenced it.
   *         Nothing of ours is there: go to 1 (a new reservation, a new attempt), at most
   *         `maxAttempts` of them (then AppendContentionError, answered 503).
   *
   * A crash before 4 leaves at most a hole (readers mark it after the gap bound; in the tail
   * era, nothing); after 4 the batch is committed whether or not anyone heard of it (an
   * idempotent retry finds it by writerId, docs/exactly-once.md).
   */
  async append(partition: PartitionRef, pending: PendingEntry, options: AppendOptions = {}): Promise<AppendResult> {
    const checkDeadline = () => {
      if (options.deadline !== undefined && this.clock() >= options.deadline) {
        throw new LeaseExpiredError(options.deadline);
      }
    };
    // The gate is observed even when the append stops before awaiting it (a refused admission, the deadline).
    options.gate?.catch(() => {});
    const key = partitionKey(partition);
    let attemptsBefore = 0;
    if (this.eras.get(key) !== 'counter') {
      const atTail = await this.appendAtTail(partition, key, pending, options, checkDeadline);
      if (atTail.result) return atTail.result;
      // The partition has a counter, or another writer took the tail: offsets come from the counter from now on.
      attemptsBefore = atTail.attempts;
      this.eras.set(key, 'counter');
    }
    await options.reserveGate;
    checkDeadline();
    let held = this.reserve(partition, pending.recordCount);
    try {
      await Promise.all([held, options.gate]);
    } catch (error) {
      // The gate refused (or the reservation failed): give a reservation taken back at once.
      const taken = await held.catch(() => undefined);
      if (taken) await this.abandon(partition, taken, pending.recordCount);
      throw error;
    }
    for (let attempt = attemptsBefore + 1; ; attempt++) {
      const reservation = await held;
      const now = this.clock();
      if (options.deadline !== undefined && now >= options.deadline) {
        await this.abandon(partition, reservation, pending.recordCount);
        throw new LeaseExpiredError(options.deadline);
      }
      const { baseOffset, slot } = reservation;
      if (now - reservation.sentAt <= this.reservationBoundMs) {
        try {
          const written = await this.put(partition, pending, baseOffset, now, slot);
          return { ...written, attempts: attempt };
        } catch (error) {
          if (!(error instanceof OffsetTakenError)) throw error;
          // 6b: a gap marker fenced our reservation: reserve again.
        }
      } else {
        // Too old to write: readers may be about to pass it. Mark it ourselves, reserve again.
        await this.abandon(partition, reservation, pending.recordCount);
      }
      if (attempt >= this.maxAttempts) throw new AppendContentionError(attempt);
      checkDeadline();
      held = this.reserve(partition, pending.recordCount);
    }
  }

  /**
   * Step 0, while the partition has no counter: the tail's end is the next offset. Reads sent
   * at once, beside the admission and the gate: the last entry and, on this instance's first
   * append to the partition, the counter; then the
   * entry's put at the tail's end IF attribute_not_exists(sk). Answers the append, or how many
   * attempts it took when the offsets must come from the counter: the partition has one or
   * its tail is of the counter's era (the put is not sent), or another writer's put took the
   * offset (1 attempt). The counter read covers counters created from the last entry without
   * a fence (by versions before the tail era existed); the fence covers the counter this
   * version creates, so the counter is read once per partition per instance: a counter
   * created later is one this version created, after its fence.
   */
  private async appendAtTail(
    partition: PartitionRef,
    key: string,
    pending: PendingEntry,
    options: AppendOptions,
    checkDeadline: () => void,
  ): Promise<{ result?: AppendResult; attempts: number }> {
    const checked = this.eras.peek(key) === 'tail';
    const reads = Promise.all([this.index.last(partition), checked ? undefined : this.index.readCounter(partition)]);
    reads.catch(() => {});
    await options.reserveGate;
    checkDeadline();
    const [[tail, counter]] = await Promise.all([reads, options.gate]);
    if (counter || (tail && counterEra(tail))) return { attempts: 0 };
    if (!checked) this.eras.set(key, 'tail');
    const now = this.clock();
    if (options.deadline !== undefined && now >= options.deadline) throw new LeaseExpiredError(options.deadline);
    try {
      const written = await this.put(partition, pending, tail ? entryEnd(tail) : 0, now, undefined);
      return { result: { ...written, attempts: 1 }, attempts: 1 };
    } catch (error) {
      if (!(error instanceof OffsetTakenError)) throw error;
      // Another writer took the tail: end the tail era now (the counter is known to be missing).
      await this.createCounter(partition);
      return { attempts: 1 };
    }
  }

  /**
   * Steps 4 to 6a: the entry's put at `baseOffset`; on a failed condition, the item there is
   * read: ours (the put landed, its acknowledgement was lost) is success; anything else
   * throws the OffsetTakenError.
   */
  private async put(
    partition: PartitionRef,
    pending: PendingEntry,
    baseOffset: number,
    now: number,
    slot: number | undefined,
  ): Promise<{ baseOffset: number; appendTime: number }> {
    // Read once the gate passed: the segment PUT may have settled on another object (a hedge's twin).
    const { usesAppendTime, ...rest } = pending;
    const appendTime = now;
    const maxTimestamp = usesAppendTime ? Math.max(pending.maxTimestamp, appendTime) : pending.maxTimestamp;
    const entry: IndexEntry = { ...rest, maxTimestamp, baseOffset, appendTime };
    if (slot !== undefined) entry.slot = slot;
    try {
      await this.index.append(partition, entry);
      this.notifier?.notify(partitionKey(partition));
      return { baseOffset, appendTime };
    } catch (error) {
      if (!(error instanceof OffsetTakenError)) throw error;
      const taken = await this.index.entryAtOrBefore(partition, baseOffset);
      if (taken?.baseOffset === baseOffset && pending.writerId !== undefined && taken.writerId === pending.writerId) {
        // 6a: our own write, its acknowledgement lost.
        this.notifier?.notify(partitionKey(partition));
        return { baseOffset, appendTime: taken.appendTime };
      }
      throw error;
    }
  }

  /** Step 2: reserve `count` offsets on the counter, creating the counter from the last entry if there is none. */
  private async reserve(partition: PartitionRef, count: number): Promise<Held> {
    const sentAt = this.clock();
    const reserved = await this.index.reserve(partition, count);
    if (reserved) return { ...reserved, sentAt };
    await this.createCounter(partition);
    const again = await this.index.reserve(partition, count);
    if (!again) throw new Error('The partition counter is missing right after it was created');
    return { ...again, sentAt };
  }

  /**
   * Ends the partition's tail era: a 1-offset gap marker at the tail's end (the **fence**,
   * slot −1, `attribute_not_exists(sk)`), then the counter right after it, at slot 0. A put
   * at the tail (step 0) goes only where the last entry it read ends, and entries of the tail
   * era are contiguous, so once the fence holds that offset no such put can land at or
   * beyond it: every offset after the fence is the counter's. Losing the fence's put to
   * another writer's entry means the tail moved: read it again. A tail of the counter's era
   * (the fence of a writer that stopped before creating the counter, or entries with slots)
   * gives the counter from its end. Creating the counter is a conditional put, so writers
   * doing this together create the same one.
   */
  private async createCounter(partition: PartitionRef): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const tail = await this.index.last(partition);
      if (tail && counterEra(tail)) {
        // The fence's writer creates the counter right after it: read before writing.
        if (await this.index.readCounter(partition)) return;
        await this.index.initCounter(partition, { next: entryEnd(tail), slot: (lastSlot(tail) ?? -1) + 1 });
        return;
      }
      const at = tail ? entryEnd(tail) : 0;
      try {
        await this.index.append(partition, gapMarker(at, 1, this.clock(), { slots: { slot: -1, lastSlot: -1 } }));
      } catch (error) {
        if (!(error instanceof OffsetTakenError)) throw error;
        if (attempt >= this.maxAttempts) throw new AppendContentionError(attempt);
        continue;
      }
      await this.index.initCounter(partition, { next: at + 1, slot: 0 });
      return;
    }
  }

  /**
   * Gives a reservation up without writing its records: a gap marker over exactly it (its
   * slot known, so readers pass it at once). Best effort: if the marker cannot be written
   * readers mark the hole after the gap bound.
   */
  private async abandon(partition: PartitionRef, reservation: Reservation, count: number): Promise<void> {
    const marker = gapMarker(reservation.baseOffset, count, this.clock(), {
      slots: { slot: reservation.slot, lastSlot: reservation.slot },
    });
    await this.index.append(partition, marker).catch(() => {});
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
    const hole = await this.headHole(partition, first);
    if (hole !== undefined) return { logStartOffset: hole, highWatermark };
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
    const first = page.entries[0];
    const hole = first && (await this.headHole(partition, first));
    if (hole !== undefined) logStartOffset = Math.min(logStartOffset, hole);
    return { logStartOffset, highWatermark, segments, retainedBytes, statsComplete: !page.more };
  }

  /**
   * Where a hole at the partition's start begins, if the first entry follows one: offsets
   * reserved by the partition's first writers and not written yet (or never). They may still
   * be written, so they are part of the log (the log start offset is there, and a consumer
   * starting at the earliest offset waits for them). A first entry that is an expiry marker
   * or older than the counter means a trimmed head; otherwise the counter's trim floor tells.
   */
  private async headHole(partition: PartitionRef, first: IndexEntry): Promise<number | undefined> {
    if (first.baseOffset === 0 || first.location.kind === 'expired' || firstSlot(first) === -1) return undefined;
    const counter = await this.index.readCounter(partition);
    return counter && counter.floor < first.baseOffset ? counter.floor : undefined;
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

/**
 * Whether `entry` was written once the partition had a counter: entries with a slot, gap
 * markers (the fence among them) and their expiry markers. Entries of the tail era carry no
 * slot, and no gap marker is ever written among them (they leave no holes).
 */
export const counterEra = (entry: IndexEntry): boolean => entry.slot !== undefined || isGap(entry);

/** The first offset of `entry` appended at or after `cutoff`; undefined if the entry is wholly expired. */
const firstRetainedOffset = (entry: IndexEntry, cutoff: number): number | undefined => {
  if (entry.location.kind === 'expired' || lastAppendTime(entry) < cutoff) return undefined;
  if (entry.appendTime >= cutoff) return entry.baseOffset;
  return entry.batches?.find((b) => b.appendTime >= cutoff)?.baseOffset ?? entry.baseOffset;
};
