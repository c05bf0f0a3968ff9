import { describe, expect, it } from 'vitest';
import { DAY, HOUR } from '#shared/constants';
import { retentionClass, retentionCutoff } from './retention';

describe('retentionClass', () => {
  it('picks the smallest class that outlives retention with margin', () => {
    expect(retentionClass(HOUR)).toBe('1d');
    expect(retentionClass(DAY)).toBe('2d');
    expect(retentionClass(7 * DAY)).toBe('8d');
    expect(retentionClass(30 * DAY)).toBe('31d');
    expect(retentionClass(365 * DAY)).toBe('366d');
    expect(retentionClass(400 * DAY)).toBe('forever');
    expect(retentionClass(-1)).toBe('forever');
  });
});

describe('retentionCutoff', () => {
  it('keeps everything for -1', () => {
    expect(retentionCutoff(-1, 1000)).toBe(Number.NEGATIVE_INFINITY);
    expect(retentionCutoff(100, 1000)).toBe(900);
  });
});
