import { describe, expect, it } from 'vitest';
import { ALL_PERMISSIONS, isAllowed } from './permissions';

describe('isAllowed', () => {
  it('grants everything with the wildcard resource', () => {
    expect(isAllowed(ALL_PERMISSIONS, 'topic:x', 'produce')).toBe(true);
    expect(isAllowed(ALL_PERMISSIONS, 'tenant', 'manage')).toBe(true);
  });

  it('matches prefix patterns and nothing else', () => {
    const perms = [{ resource: 'topic:orders-*', actions: ['produce' as const] }];
    expect(isAllowed(perms, 'topic:orders-eu', 'produce')).toBe(true);
    expect(isAllowed(perms, 'topic:orders-', 'produce')).toBe(true);
    expect(isAllowed(perms, 'topic:orders', 'produce')).toBe(false);
    expect(isAllowed(perms, 'topic:orders-eu', 'consume')).toBe(false);
    expect(isAllowed(perms, 'group:orders-eu', 'produce')).toBe(false);
    expect(isAllowed(perms, 'tenant', 'produce')).toBe(false);
  });

  it('treats dots in patterns literally', () => {
    const perms = [{ resource: 'topic:a.b', actions: ['consume' as const] }];
    expect(isAllowed(perms, 'topic:a.b', 'consume')).toBe(true);
    expect(isAllowed(perms, 'topic:axb', 'consume')).toBe(false);
  });
});
