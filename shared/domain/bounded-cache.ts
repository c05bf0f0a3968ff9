/** A least-recently-used cache of at most a fixed number of entries. */
export interface BoundedCache<K extends string, V> {
  /** The entry's value, which becomes the most recently used. */
  get(key: K): V | undefined;
  /** Adds or replaces an entry (the most recently used); beyond the bound the least recently used goes. */
  set(key: K, value: V): unknown;
  /** Whether the key has an entry, without making it more recently used. */
  has(key: K): boolean;
  delete(key: K): unknown;
  readonly size: number;
  /** Keys from the least to the most recently used. */
  keys(): K[];
}

/**
 * A strict least-recently-used cache on a `Map`, which iterates in insertion order: an
 * entry read or written is moved to the end, and the first key is the least recently
 * used. `weigh` gives each entry's weight against `maxWeight` (1 per entry by default);
 * `onEvict` hears of every entry pushed out by the bound.
 *
 * Written on `Map` rather than taken from a library: the LRU packages measured either add
 * 2–6 KB to every function start (tiny-lru 5.8 KB, quick-lru 3.4 KB minified, and
 * quick-lru's two generations are not a strict order) or allocate arrays for the whole
 * bound when built (lru.min), where these caches are built on every cold start and grow
 * with use (docs/deploy.md, cold start).
 */
export class LruMap<K, V> {
  private readonly entries = new Map<K, V>();
  private total = 0;

  constructor(
    private readonly maxWeight: number,
    private readonly weigh: (value: V) => number = () => 1,
    private readonly onEvict?: (key: K, value: V) => void,
  ) {}

  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  /** The value without making it more recently used. */
  peek(key: K): V | undefined {
    return this.entries.get(key);
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  set(key: K, value: V): this {
    this.delete(key);
    this.entries.set(key, value);
    this.total += this.weigh(value);
    for (const [oldest, old] of this.entries) {
      if (this.total <= this.maxWeight || this.entries.size <= 1) break;
      this.entries.delete(oldest);
      this.total -= this.weigh(old);
      this.onEvict?.(oldest, old);
    }
    return this;
  }

  delete(key: K): boolean {
    const value = this.entries.get(key);
    if (value === undefined) return false;
    this.entries.delete(key);
    this.total -= this.weigh(value);
    return true;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The sum of the entries' weights. */
  get weight(): number {
    return this.total;
  }

  keys(): K[] {
    return [...this.entries.keys()];
  }
}

/** A least-recently-used cache of at most `maxEntries` entries; nothing is allocated for the bound up front. */
export const boundedCache = <K extends string, V>(maxEntries: number): BoundedCache<K, V> =>
  new LruMap<K, V>(maxEntries);
