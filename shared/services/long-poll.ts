import type { PartitionRef } from '#shared/ports/log-index';
import { partitionKey } from '#shared/ports/log-index';
import type { AppendNotifier } from './append-notifier';
import { mapWithConcurrency } from './concurrency';
import type { PartitionLog } from './partition-log';

/** How often a long poll re-reads the partition tails when no in-process wake-up comes. */
export const LONG_POLL_INTERVAL_MS = 100;

/** High watermark reads in flight at once for one wait. */
const READ_CONCURRENCY = 16;

export interface PartitionPosition {
  ref: PartitionRef;
  /** The offset the reader waits for a record at. */
  from: number;
}

/**
 * The one long-poll waiter, shared by a partition fetch and a member's group fetch: wakes
 * on an append in this process (the notifier) or, at the latest every
 * LONG_POLL_INTERVAL_MS, re-reads the partitions' high watermarks (an append served by
 * another function instance sends no wake-up).
 */
export class LongPoll {
  private readonly log: PartitionLog;
  private readonly notifier: AppendNotifier;
  private readonly clock: () => number;

  constructor(deps: { log: PartitionLog; notifier: AppendNotifier; clock: () => number }) {
    this.log = deps.log;
    this.notifier = deps.notifier;
    this.clock = deps.clock;
  }

  /** Waits until one of `positions` has a record at or after its `from`, or `ms` passed: true when one has. */
  async waitForRecords(positions: readonly PartitionPosition[], ms: number): Promise<boolean> {
    if (positions.length === 0) return false;
    const deadline = this.clock() + ms;
    for (;;) {
      const left = deadline - this.clock();
      if (left <= 0) return false;
      const wait = Math.min(LONG_POLL_INTERVAL_MS, left);
      await Promise.race(positions.map((p) => this.notifier.wait(partitionKey(p.ref), wait)));
      const heads = await mapWithConcurrency(positions, READ_CONCURRENCY, (p) => this.log.highWatermark(p.ref));
      if (heads.some((head, i) => head > (positions[i]?.from ?? 0))) return true;
    }
  }
}
