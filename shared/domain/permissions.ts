import { boundedCache } from './bounded-cache';

/**
 * Key permissions: actions on resource patterns. A resource is `topic:<name>`,
 * `group:<name>`, `connector:<name>`, or `*` (everything, including the tenant's keys). Patterns may use
 * `*` as a wildcard for any run of characters (`topic:orders-*`).
 */
export const ACTIONS = ['produce', 'consume', 'manage'] as const;
export type Action = (typeof ACTIONS)[number];

export interface Permission {
  resource: string;
  actions: Action[];
}

export const ALL_PERMISSIONS: Permission[] = [{ resource: '*', actions: [...ACTIONS] }];

/** Compiled patterns; the least recently used go first. */
const patternCache = boundedCache<string, RegExp>(1000);

const toRegExp = (pattern: string): RegExp => {
  let re = patternCache.get(pattern);
  if (!re) {
    const body = pattern
      .split('*')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*');
    re = new RegExp(`^${body}$`);
    patternCache.set(pattern, re);
  }
  return re;
};

/** A resource the request acts on: `topic:orders`, `group:billing`, `connector:orders-gen`, or `tenant` (keys). */
export type Resource = `topic:${string}` | `group:${string}` | `connector:${string}` | 'tenant';

export const isAllowed = (permissions: readonly Permission[], resource: Resource, action: Action): boolean =>
  permissions.some(
    (p) =>
      p.actions.includes(action) &&
      (p.resource === '*' || (resource !== 'tenant' && toRegExp(p.resource).test(resource))),
  );

/** Whether the key may do anything at all with `resource` (what lists and describe show). */
export const canSee = (permissions: readonly Permission[], resource: Resource): boolean =>
  ACTIONS.some((action) => isAllowed(permissions, resource, action));

/**
 * A resource pattern a key may be granted: `*`, or `topic:`/`group:`/`connector:` followed by 1-249
 * characters of Kafka's name alphabet and `*` wildcards (`topic:orders-*`, `group:*`).
 */
export const RESOURCE_PATTERN = /^(\*|(topic|group|connector):[a-zA-Z0-9._*-]{1,249})$/;

/**
 * Whether `granted` matches every resource that `requested` matches. Exact for the
 * patterns keys use (none, or one trailing `*`); a pattern with an inner wildcard is
 * covered only by `*` or by itself, which may refuse a grant that would be safe, never
 * allow one that is not.
 */
export const patternCovers = (granted: string, requested: string): boolean => {
  if (granted === '*' || granted === requested) return true;
  if (requested === '*') return false;
  const star = granted.indexOf('*');
  // No wildcard: only the identical pattern is covered, and that returned above.
  if (star === -1) return false;
  if (star !== granted.length - 1) return !requested.includes('*') && toRegExp(granted).test(requested);
  return requested.startsWith(granted.slice(0, -1));
};

/**
 * Whether a key holding `held` may hand out `requested`: every action on every pattern
 * must already be the holder's, so a new key never exceeds the key that created it.
 */
export const permissionsCover = (held: readonly Permission[], requested: readonly Permission[]): boolean =>
  requested.every((want) =>
    want.actions.every((action) =>
      held.some((have) => have.actions.includes(action) && patternCovers(have.resource, want.resource)),
    ),
  );
