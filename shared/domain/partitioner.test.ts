import { describe, expect, it } from 'vitest';
import { murmur2, partitionForKey } from './partitioner';

const utf8 = (s: string) => new TextEncoder().encode(s);

describe('murmur2', () => {
  // Vectors from Kafka's own UtilsTest.testMurmur2.
  it.each([
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ])('hashes %j like Kafka', (input, expected) => {
    expect(murmur2(utf8(input))).toBe(expected);
  });

  it('hashes bytes above 0x7f as unsigned, like Java masks them', () => {
    // Every tail length (0..3) with high bytes; the value must be a signed 32-bit int
    // and differ from the hash of the same bytes with the high bit cleared.
    for (const length of [4, 5, 6, 7]) {
      const high = new Uint8Array(length).fill(0xff);
      const low = new Uint8Array(length).fill(0x7f);
      const h = murmur2(high);
      expect(Number.isInteger(h)).toBe(true);
      expect(h).toBeGreaterThanOrEqual(-(2 ** 31));
      expect(h).toBeLessThan(2 ** 31);
      expect(h).not.toBe(murmur2(low));
    }
  });
});

describe('partitionForKey', () => {
  it('clears the sign bit before the modulo', () => {
    // murmur2("21") is negative; Kafka keeps the low 31 bits.
    expect(partitionForKey(utf8('21'), 1000)).toBe((-973932308 & 0x7fffffff) % 1000);
    expect(partitionForKey(utf8('abc'), 7)).toBe(479470107 % 7);
  });

  it('is stable and within range', () => {
    for (let i = 0; i < 500; i++) {
      const key = utf8(`user-${i}`);
      const p = partitionForKey(key, 12);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(12);
      expect(partitionForKey(key, 12)).toBe(p);
    }
  });
});
