/**
 * Wakes long polls in the same process as soon as a partition gets new records. Across
 * processes (other Lambda instances) a waiting fetch polls the index instead; this only
 * shortens the wait when producer and consumer share an instance (always, locally).
 */
export class AppendNotifier {
  private readonly waiters = new Map<string, Set<() => void>>();

  notify(partitionKey: string): void {
    const set = this.waiters.get(partitionKey);
    if (!set) return;
    this.waiters.delete(partitionKey);
    for (const wake of set) wake();
  }

  /** Resolves on the next notify for the key or after `ms`, whichever comes first. */
  wait(partitionKey: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let set = this.waiters.get(partitionKey);
      if (!set) {
        set = new Set();
        this.waiters.set(partitionKey, set);
      }
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.get(partitionKey)?.delete(wake);
        if (this.waiters.get(partitionKey)?.size === 0) this.waiters.delete(partitionKey);
        resolve();
      }, ms);
      set.add(wake);
    });
  }
}
