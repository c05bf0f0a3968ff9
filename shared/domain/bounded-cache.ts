import { LRUCache } from 'lru-cache';

/**
 * A least-recently-used cache of at most `maxEntries` entries. It is bounded by size, each
 * entry counting 1, rather than with lru-cache's `max`: with `max`, lru-cache allocates
 * its arrays for every entry when the cache is built, about 1 ms per cache of 10,000
 * entries on every cold start, while these caches grow with use. The eviction order and
 * the bound are the same.
 */
export const boundedCache = <K extends {}, V extends {}>(maxEntries: number): LRUCache<K, V> =>
  new LRUCache<K, V>({ maxSize: maxEntries, sizeCalculation: () => 1 });
