/** A FIFO handed from producers (partition fetch loops) to one or more takers, with failure and close. */
export class AsyncQueue<T> {
  private readonly items: T[] = [];
  private readonly takers: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void }[] = [];
  private ended = false;
  private failure: { error: unknown } | undefined;

  /** Items not yet taken. */
  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    if (this.ended) return;
    const taker = this.takers.shift();
    if (taker) taker.resolve({ value: item, done: false });
    else this.items.push(item);
  }

  /** Drops queued items that match. */
  remove(predicate: (item: T) => boolean): T[] {
    const removed: T[] = [];
    for (let i = this.items.length - 1; i >= 0; i--) {
      if (predicate(this.items[i] as T)) removed.push(...this.items.splice(i, 1));
    }
    return removed;
  }

  /** Ends the queue: takers get `done` once the queued items are taken. */
  close(): void {
    this.ended = true;
    if (this.items.length === 0) for (const t of this.takers.splice(0)) t.resolve({ value: undefined, done: true });
  }

  /** Ends the queue with an error for every taker. */
  fail(error: unknown): void {
    this.failure = { error };
    this.ended = true;
    this.items.length = 0;
    for (const t of this.takers.splice(0)) t.reject(error);
  }

  next(): Promise<IteratorResult<T>> {
    const item = this.items.shift();
    if (item !== undefined) {
      if (this.ended && this.items.length === 0) this.close();
      return Promise.resolve({ value: item, done: false });
    }
    if (this.failure) return Promise.reject(this.failure.error);
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => this.takers.push({ resolve, reject }));
  }
}

/** A promise with its resolve function at hand. */
export interface Deferred<T = void> {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
}

export const deferred = <T = void>(): Deferred<T> => {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};
