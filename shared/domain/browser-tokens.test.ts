import { describe, expect, it } from 'vitest';
import { mintToken, tokenKeyId, verifyToken } from './browser-tokens';

const claims = {
  expiresAt: 1_800_000_000_000,
  permissions: [{ resource: 'topic:feed-*', actions: ['consume' as const] }],
};

describe('browser tokens', () => {
  it('verify under the key that signed them and carry their claims', () => {
    const token = mintToken('abcdefghijklmnop', 'hash-of-key', claims);
    expect(token.startsWith('rnt_abcdefghijklmnop.')).toBe(true);
    expect(tokenKeyId(token)).toBe('abcdefghijklmnop');
    expect(verifyToken(token, 'hash-of-key')).toEqual(claims);
  });

  it('refuse another signing key, an edited payload and a truncated signature', () => {
    const token = mintToken('abcdefghijklmnop', 'hash-of-key', claims);
    expect(verifyToken(token, 'hash-of-other-key')).toBeUndefined();
    const [head, payload, sig] = token.split('.') as [string, string, string];
    const widened = Buffer.from(
      JSON.stringify({ e: claims.expiresAt * 2, p: [{ resource: '*', actions: ['produce'] }] }),
    ).toString('base64url');
    expect(verifyToken(`${head}.${widened}.${sig}`, 'hash-of-key')).toBeUndefined();
    expect(verifyToken(`${head}.${payload}.${sig.slice(1)}`, 'hash-of-key')).toBeUndefined();
    expect(verifyToken('rnl_abcdefghijklmnop_xyz', 'hash-of-key')).toBeUndefined();
    expect(tokenKeyId('rnt_short.x.y')).toBeUndefined();
  });
});
