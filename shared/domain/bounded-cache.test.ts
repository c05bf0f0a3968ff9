import { describe, expect, it } from 'vitest';
import { boundedCache } from './bounded-cache';

describe('boundedCache', () => {
  it('holds at most maxEntries entries and evicts the least recently used first', () => {
    const cache = boundedCache<string, number>(3);
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('c', 3);
    expect(cache.get('a')).toBe(1); // a is now the most recently used
    cache.set('d', 4);
    expect(cache.size).toBe(3);
    expect([...cache.keys()].sort()).toEqual(['a', 'c', 'd']);
    cache.set('c', 30); // replacing an entry does not grow the cache
    cache.set('e', 5);
    expect(cache.size).toBe(3);
    expect(cache.has('a')).toBe(false);
    expect([...cache.keys()].sort()).toEqual(['c', 'd', 'e']);
  });
});
