/**
 * Key permissions: actions on resource patterns. A resource is `topic:<name>`,
 * `group:<name>`, or `*` (everything, including the tenant's keys). Patterns may use
 * `*` as a wildcard for any run of characters (`topic:orders-*`).
 */
export const ACTIONS = ['produce', 'consume', 'manage'] as const;
export type Action = (typeof ACTIONS)[number];

export interface Permission {
  resource: string;
  actions: Action[];
}

export const ALL_PERMISSIONS: Permission[] = [{ resource: '*', actions: [...ACTIONS] }];

const patternCache = new Map<string, RegExp>();

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

/** A resource the request acts on: `topic:orders`, `group:billing`, or `tenant` (keys). */
export type Resource = `topic:${string}` | `group:${string}` | 'tenant';

export const isAllowed = (permissions: readonly Permission[], resource: Resource, action: Action): boolean =>
  permissions.some(
    (p) =>
      p.actions.includes(action) &&
      (p.resource === '*' || (resource !== 'tenant' && toRegExp(p.resource).test(resource))),
  );

/** Whether the key may do anything at all with `resource` (what lists and describe show). */
export const canSee = (permissions: readonly Permission[], resource: Resource): boolean =>
  ACTIONS.some((action) => isAllowed(permissions, resource, action));
