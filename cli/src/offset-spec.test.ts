import { describe, expect, it } from 'vitest';
import { UsageError } from './errors';
import { parseOffsetSpec, startOffset } from './offset-spec';

const bounds = { logStartOffset: 10, highWatermark: 100 };
const now = () => 1_700_000_000_000;

describe('parseOffsetSpec (kcat -o grammar)', () => {
  it.each([
    ['beginning', { kind: 'beginning' }],
    ['earliest', { kind: 'beginning' }],
    ['end', { kind: 'end' }],
    ['latest', { kind: 'end' }],
    ['stored', { kind: 'stored' }],
    ['0', { kind: 'absolute', offset: 0 }],
    ['42', { kind: 'absolute', offset: 42 }],
    ['-5', { kind: 'fromEnd', count: 5 }],
    ['@1699999999000', { kind: 'timestamp', timestampMs: 1_699_999_999_000 }],
    ['s@1699999999000', { kind: 'timestamp', timestampMs: 1_699_999_999_000 }],
    ['-1h', { kind: 'timestamp', timestampMs: 1_700_000_000_000 - 3_600_000 }],
    ['-30m', { kind: 'timestamp', timestampMs: 1_700_000_000_000 - 1_800_000 }],
    ['-2d', { kind: 'timestamp', timestampMs: 1_700_000_000_000 - 2 * 86_400_000 }],
  ])('%s', (text, expected) => {
    expect(parseOffsetSpec(text, now)).toEqual(expected);
  });

  it.each(['', 'begin', '1.5', '--1', '@', '@-1', '-1y', 'e@100', '99999999999999999999', '-0h'])(
    'refuses %j as usage',
    (text) => {
      expect(() => parseOffsetSpec(text, now)).toThrow(UsageError);
    },
  );
});

describe('startOffset', () => {
  it('resolves positions against the partition bounds', () => {
    expect(startOffset({ kind: 'beginning' }, bounds)).toBe(10);
    expect(startOffset({ kind: 'end' }, bounds)).toBe(100);
    expect(startOffset({ kind: 'absolute', offset: 50 }, bounds)).toBe(50);
    expect(startOffset({ kind: 'fromEnd', count: 5 }, bounds)).toBe(95);
  });

  it('never goes below the log start for -N', () => {
    expect(startOffset({ kind: 'fromEnd', count: 500 }, bounds)).toBe(10);
  });

  it('leaves time and stored positions to the server', () => {
    expect(startOffset({ kind: 'timestamp', timestampMs: 1 }, bounds)).toBeUndefined();
    expect(startOffset({ kind: 'stored' }, bounds)).toBeUndefined();
  });
});
