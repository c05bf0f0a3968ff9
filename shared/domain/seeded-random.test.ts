import { describe, expect, it } from 'vitest';
import { mulberry32 } from './seeded-random';

describe('mulberry32', () => {
  it('repeats for a seed, differs across seeds and stays in [0, 1)', () => {
    const a = Array.from({ length: 1000 }, mulberry32(42));
    expect(Array.from({ length: 1000 }, mulberry32(42))).toEqual(a);
    expect(Array.from({ length: 1000 }, mulberry32(43))).not.toEqual(a);
    expect(a.every((x) => x >= 0 && x < 1)).toBe(true);
    // Roughly uniform: each tenth holds 5-15% of the values.
    for (let d = 0; d < 10; d++) {
      const share = a.filter((x) => Math.floor(x * 10) === d).length / a.length;
      expect(share).toBeGreaterThan(0.05);
      expect(share).toBeLessThan(0.15);
    }
  });
});
