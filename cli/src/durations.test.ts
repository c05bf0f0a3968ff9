import { describe, expect, it } from 'vitest';
import { formatRetention, parseDuration, parseRetention } from './durations';
import { UsageError } from './errors';

describe('durations', () => {
  it('parses durations', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('7d')).toBe(604_800_000);
    expect(parseDuration('2w')).toBe(1_209_600_000);
  });

  it.each(['', '1', '1y', '-1h', '0s', '1.5h', 'h'])('refuses duration %j', (text) => {
    expect(() => parseDuration(text)).toThrow(UsageError);
  });

  it('parses retentions, -1 meaning forever', () => {
    expect(parseRetention('7d')).toBe(604_800_000);
    expect(parseRetention('-1')).toBe(-1);
    expect(parseRetention('forever')).toBe(-1);
    expect(parseRetention('60000')).toBe(60_000);
    expect(() => parseRetention('0')).toThrow(UsageError);
    expect(() => parseRetention('-2')).toThrow(UsageError);
  });

  it('formats retentions back', () => {
    expect(formatRetention(604_800_000)).toBe('7d');
    expect(formatRetention(86_400_000 * 3)).toBe('3d');
    expect(formatRetention(-1)).toBe('forever');
    expect(formatRetention(1500)).toBe('1500ms');
  });
});
