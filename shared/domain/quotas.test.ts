import { describe, expect, it } from 'vitest';
import { DEFAULT_QUOTAS, effectiveQuotas, retentionAllowed } from './quotas';

describe('quotas', () => {
  it('takes the tenant’s own values over the defaults, one by one', () => {
    expect(effectiveQuotas(undefined)).toEqual(DEFAULT_QUOTAS);
    const q = effectiveQuotas({ maxTopics: 3, produceBytesPerSec: 2048 });
    expect(q).toEqual({ ...DEFAULT_QUOTAS, maxTopics: 3, produceBytesPerSec: 2048 });
  });

  it('caps retention, where -1 is forever on a topic and no cap on a quota', () => {
    expect(retentionAllowed(-1, -1)).toBe(true);
    expect(retentionAllowed(1000, -1)).toBe(true);
    expect(retentionAllowed(1000, 1000)).toBe(true);
    expect(retentionAllowed(1001, 1000)).toBe(false);
    expect(retentionAllowed(-1, 1000)).toBe(false);
  });
});
