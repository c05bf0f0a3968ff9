import { LRU } from 'tiny-lru';

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
 * A least-recently-used cache of at most `maxEntries` entries, on tiny-lru: entries are
 * linked as they are added and nothing is allocated for the bound when the cache is built
 * (these caches are built on every cold start and grow with use).
 */
export const boundedCache = <K extends string, V>(maxEntries: number): BoundedCache<K, V> => new LRU<V>(maxEntries);
