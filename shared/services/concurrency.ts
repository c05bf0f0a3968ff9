/**
 * Applies `fn` to every item with at most `limit` calls in flight, and returns the
 * results in the order of `items` (whatever order the calls finish in).
 */
export const mapWithConcurrency = async <T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>) => {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
};

/**
 * At most `permits` calls in flight per key (a tenant); the others wait their turn in
 * arrival order. Per process: one tenant's burst of reads queues behind itself instead of
 * crowding the storage connections every tenant shares.
 */
export class KeyedSemaphore {
  private readonly slots = new Map<string, { active: number; queue: (() => void)[] }>();

  constructor(readonly permits: number) {
    if (!(permits >= 1)) throw new Error('KeyedSemaphore: permits ≥ 1 is required');
  }

  /** Calls in flight for `key` now (tests, metrics). */
  active(key: string): number {
    return this.slots.get(key)?.active ?? 0;
  }

  async run<R>(key: string, fn: () => Promise<R>): Promise<R> {
    let slot = this.slots.get(key);
    if (!slot) {
      slot = { active: 0, queue: [] };
      this.slots.set(key, slot);
    }
    if (slot.active >= this.permits) await new Promise<void>((resolve) => slot?.queue.push(resolve));
    else slot.active += 1;
    try {
      return await fn();
    } finally {
      // Hand the permit straight to the next waiter, or give it back.
      const next = slot.queue.shift();
      if (next) next();
      else if (--slot.active === 0) this.slots.delete(key);
    }
  }
}
