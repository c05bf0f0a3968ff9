import { describe, expect, it } from 'vitest';
import { ALL_PERMISSIONS, isAllowed, permissionsCover, RESOURCE_PATTERN } from './permissions';

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

describe('permissionsCover', () => {
  const p = (resource: string, ...actions: ('produce' | 'consume' | 'manage')[]) => ({ resource, actions });

  it('lets the wildcard hand out anything it holds, and nothing more', () => {
    expect(permissionsCover([p('*', 'manage', 'produce')], [p('topic:a', 'produce'), p('*', 'manage')])).toBe(true);
    expect(permissionsCover([p('*', 'manage')], [p('topic:a', 'produce')])).toBe(false);
  });

  it('covers narrower prefixes and exact names only', () => {
    const held = [p('topic:orders-*', 'produce')];
    expect(permissionsCover(held, [p('topic:orders-eu-*', 'produce')])).toBe(true);
    expect(permissionsCover(held, [p('topic:orders-eu', 'produce')])).toBe(true);
    expect(permissionsCover(held, [p('topic:orders*', 'produce')])).toBe(false);
    expect(permissionsCover(held, [p('topic:*', 'produce')])).toBe(false);
    expect(permissionsCover(held, [p('*', 'produce')])).toBe(false);
    expect(permissionsCover(held, [p('group:orders-eu', 'produce')])).toBe(false);
    expect(permissionsCover([p('topic:a', 'produce')], [p('topic:a*', 'produce')])).toBe(false);
    expect(permissionsCover([p('topic:a*b', 'produce')], [p('topic:a*', 'produce')])).toBe(false);
    expect(permissionsCover([p('topic:a*b', 'produce')], [p('topic:axb', 'produce')])).toBe(true);
  });
});

describe('RESOURCE_PATTERN', () => {
  it.each(['*', 'topic:orders-*', 'group:*', 'topic:a.b_c-1'])('accepts %s', (r) => {
    expect(RESOURCE_PATTERN.test(r)).toBe(true);
  });
  it.each(['', 'tenant', 'topic:', 'topics:a', 'topic:a b', 'group:a/b', '**x', 'topic:*\n'])('refuses %j', (r) => {
    expect(RESOURCE_PATTERN.test(r)).toBe(false);
  });
});
