import type { PartitionRef } from '#shared/ports/log-index';
import { partitionKey } from '#shared/ports/log-index';
import type { AppendNotifier } from './append-notifier';
import type { PartitionLog } from './partition-log';

/**
 * How often a watched partition's tail is re-read when no in-process wake-up comes (an
 * append served by another instance sends none). Half of it is, on average, the largest
 * term of the end-to-end latency; each re-check is one strongly consistent 1-item read
 * (1 read unit for an entry up to 4 KB), about 82,000 an hour per watched partition per
 * instance, $0.0102 at on-demand prices (docs/performance.md).
 */
export const LONG_POLL_INTERVAL_MS = 40;

export interface PartitionPosition {
  ref: PartitionRef;
  /** The offset the reader waits for a record at. */
  from: number;
}

interface Waiter {
  from: number;
  /** Called with true when the partition has a record at or after `from`, or with the read's error. */
  done: (result: true | Error) => void;
}

/** One partition's watch: its waiters and the one loop that re-reads its tail for all of them. */
interface Watch {
  ref: PartitionRef;
  waiters: Set<Waiter>;
}

/**
 * The one long-poll waiter, shared by a partition fetch and a member's group fetch. Every
 * waiting request registers with the watch of each partition it waits on; a watch is one
 * loop per partition per process, whatever the number of its waiters: it wakes on an
 * append in this process (the notifier) or, at the latest every LONG_POLL_INTERVAL_MS,
 * re-reads the partition's high watermark once (an append served by another function
 * instance sends no wake-up) and answers every waiter it satisfies. A wait ends at its
 * deadline on its own timer, never later because a read was slow. A tenant's waiting
 * requests are bounded by the WaiterQuota (app/middleware/waiting-requests.ts).
 */
export class LongPoll {
  private readonly log: PartitionLog;
  private readonly notifier: AppendNotifier;
  private readonly watches = new Map<string, Watch>();

  constructor(deps: { log: PartitionLog; notifier: AppendNotifier; clock: () => number }) {
    this.log = deps.log;
    this.notifier = deps.notifier;
  }

  /** Partitions watched in this process now (tests, metrics). */
  watched(): number {
    return this.watches.size;
  }

  /**
   * Waits until one of `positions` has a record at or after its `from`, or `ms` passed:
   * true when one has.
   */
  async waitForRecords(positions: readonly PartitionPosition[], ms: number): Promise<boolean> {
    const first = positions[0];
    if (!first || ms <= 0) return false;
    const registered: [Watch, Waiter][] = [];
    try {
      return await new Promise<boolean>((resolve, reject) => {
        const timer = setTimeout(() => resolve(false), ms);
        const done = (result: true | Error) => {
          clearTimeout(timer);
          if (result === true) resolve(true);
          else reject(result);
        };
        for (const p of positions) {
          const waiter: Waiter = { from: p.from, done };
          registered.push([this.watch(p.ref), waiter]);
        }
        for (const [watch, waiter] of registered) watch.waiters.add(waiter);
      });
    } finally {
      for (const [watch, waiter] of registered) watch.waiters.delete(waiter);
    }
  }

  /** Waits for an append to `ref` in this process or `ms`, whichever comes first (a fetch waiting on a hole). */
  pause(ref: PartitionRef, ms: number): Promise<void> {
    return this.notifier.wait(partitionKey(ref), ms);
  }

  private watch(ref: PartitionRef): Watch {
    const key = partitionKey(ref);
    let watch = this.watches.get(key);
    if (!watch) {
      const created: Watch = { ref, waiters: new Set() };
      this.watches.set(key, created);
      void this.loop(key, created);
      watch = created;
    }
    return watch;
  }

  /** Runs while the watch has waiters: wait for a wake-up or the interval, read the tail once, answer who it satisfies. */
  private async loop(key: string, watch: Watch): Promise<void> {
    try {
      // The first waiters register right after the watch is created: let them.
      await Promise.resolve();
      while (watch.waiters.size > 0) {
        await this.notifier.wait(key, LONG_POLL_INTERVAL_MS);
        if (watch.waiters.size === 0) break;
        let head: number;
        try {
          head = await this.log.highWatermark(watch.ref);
        } catch (error) {
          for (const waiter of watch.waiters) waiter.done(error instanceof Error ? error : new Error(String(error)));
          watch.waiters.clear();
          break;
        }
        for (const waiter of [...watch.waiters]) {
          if (head > waiter.from) {
            watch.waiters.delete(waiter);
            waiter.done(true);
          }
        }
      }
    } finally {
      if (this.watches.get(key) === watch) this.watches.delete(key);
    }
  }
}
