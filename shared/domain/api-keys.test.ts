import { describe, expect, it } from 'vitest';
import { bearerToken, generateApiKey, hashApiKey, hashesEqual, keyIdOf } from './api-keys';

describe('api keys', () => {
  it('generates prefixed keys whose id can be read back and whose hash matches', () => {
    const a = generateApiKey();
    const b = generateApiKey();
    expect(a.apiKey).toMatch(/^rnl_[a-z2-7]{16}_[A-Za-z0-9_-]{43}$/);
    expect(a.apiKey).not.toBe(b.apiKey);
    expect(keyIdOf(a.apiKey)).toBe(a.keyId);
    expect(hashesEqual(hashApiKey(a.apiKey), a.secretHash)).toBe(true);
    expect(hashesEqual(hashApiKey(b.apiKey), a.secretHash)).toBe(false);
    expect(a.secretHash).not.toContain(a.apiKey.slice(21));
  });

  it('derives a stable id for custom keys', () => {
    expect(keyIdOf('my-local-dev-key-123')).toBe(keyIdOf('my-local-dev-key-123'));
    expect(keyIdOf('my-local-dev-key-123')).not.toBe(keyIdOf('my-local-dev-key-124'));
  });

  it('compares digests of different length or encoding as unequal', () => {
    expect(hashesEqual('abcd', 'abcdef')).toBe(false);
    expect(hashesEqual('', '')).toBe(false);
  });

  it('parses bearer tokens strictly', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer abc')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken('Bearer')).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});
