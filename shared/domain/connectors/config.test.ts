import { describe, expect, it } from 'vitest';
import { mergeConfig, parseConnectorConfig, REDACTED, redactConfig } from './config';
import { parseRetryAfter, retryDelayMs, sinkObjectKey } from './delivery';

describe('connector config', () => {
  it('fills in defaults and refuses unknown fields', () => {
    const parsed = parseConnectorConfig('http-sink', { topics: ['t'], url: 'https://x.example' });
    expect(parsed).toEqual({
      ok: true,
      config: { topics: ['t'], url: 'https://x.example', batchMaxRecords: 100, batchMaxWaitMs: 1000, maxRetries: 10 },
    });
    const bad = parseConnectorConfig('datagen', { topic: 't', template: 'orders', rate: 5 });
    expect(bad.ok).toBe(false);
  });

  it('redacts header values and keeps a stored secret sent back redacted', () => {
    const stored = { url: 'u', headers: { Authorization: 'secret', 'X-A': 'a' } };
    expect(redactConfig(stored)).toEqual({ url: 'u', headers: { Authorization: REDACTED, 'X-A': REDACTED } });
    expect(mergeConfig(stored, { headers: { Authorization: REDACTED, 'X-B': 'b' } })).toEqual({
      url: 'u',
      headers: { Authorization: 'secret', 'X-B': 'b' },
    });
    expect(mergeConfig({ a: 1, b: 2 }, { b: null, c: 3 })).toEqual({ a: 1, c: 3 });
  });
});

describe('delivery rules', () => {
  it('backs off exponentially up to 5 minutes, and a longer Retry-After wins', () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, undefined))).toEqual([500, 1000, 2000, 4000]);
    expect(retryDelayMs(30, undefined)).toBe(300_000);
    expect(retryDelayMs(1, 7000)).toBe(7000);
    expect(retryDelayMs(4, 1000)).toBe(4000);
    expect(retryDelayMs(1, 10 * 3600_000)).toBe(300_000);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.UTC(2026, 0, 1);
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter(new Date(now + 3000).toUTCString(), now)).toBe(3000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  it('names objects by topic, partition, date and offsets', () => {
    expect(sinkObjectKey('raw/', 'orders', 3, Date.UTC(2026, 10, 30, 23, 59), 100, 199)).toBe(
      'raw/topic=orders/partition=3/date=2026-11-30/100-199.jsonl.gz',
    );
  });
});
