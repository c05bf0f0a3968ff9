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

  it('forgets a deleted entry, and keeps keys from the least to the most recently used', () => {
    const cache = boundedCache<string, number>(3);
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('c', 3);
    cache.get('a');
    expect(cache.keys()).toEqual(['b', 'c', 'a']);
    cache.delete('c');
    expect(cache.has('c')).toBe(false);
    expect(cache.get('c')).toBeUndefined();
    expect(cache.size).toBe(2);
    cache.set('d', 4);
    cache.set('e', 5); // full again: b, the least recently used, goes
    expect(cache.keys()).toEqual(['a', 'd', 'e']);
  });
});
