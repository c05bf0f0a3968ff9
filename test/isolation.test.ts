import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIONS, type Action } from '#shared/domain/permissions';
import { type Api, type ApiResponse, apiClient, OPERATOR_KEY, type Stack, startStack } from './harness';
import { tenantSnapshot } from './tenant-state';

/*
 * Tenant isolation, proved over every route the app serves. Routes are read from
 * `app.routes`, so a route added later is in the matrix at once, and the first test fails
 * until it is classified here.
 */

interface Ids {
  topic: string;
  group: string;
  keyId: string;
  memberId: string;
  tenantId: string;
  connector: string;
}

type Need = { resource: 'topic' | 'group' | 'connector' | 'tenant'; action: Action | 'any' } | 'filtered' | 'none';

interface RouteCase {
  scope: 'public' | 'tenant' | 'operator';
  need?: Need;
  body?: (ids: Ids) => unknown;
  query?: (ids: Ids) => string;
  headers?: Record<string, string>;
}

const EVENT_STREAM = { Accept: 'text/event-stream' };

const ROUTES: Record<string, RouteCase> = {
  'GET /healthz': { scope: 'public' },
  'GET /openapi.json': { scope: 'public' },
  'POST /v1/topics': {
    scope: 'tenant',
    need: { resource: 'topic', action: 'manage' },
    body: (ids) => ({ name: ids.topic, partitions: 1 }),
  },
  'GET /v1/topics': { scope: 'tenant', need: 'filtered' },
  'GET /v1/topics/:topic': { scope: 'tenant', need: { resource: 'topic', action: 'any' } },
  'PATCH /v1/topics/:topic': {
    scope: 'tenant',
    need: { resource: 'topic', action: 'manage' },
    body: () => ({ retentionMs: 3_600_000, partitions: 3 }),
  },
  'DELETE /v1/topics/:topic': { scope: 'tenant', need: { resource: 'topic', action: 'manage' } },
  'POST /v1/topics/:topic/records': {
    scope: 'tenant',
    need: { resource: 'topic', action: 'produce' },
    body: () => ({ records: [{ key: 'k', value: 'intruder' }] }),
  },
  'GET /v1/topics/:topic/partitions/:partition/records': {
    scope: 'tenant',
    need: { resource: 'topic', action: 'consume' },
  },
  'GET /v1/topics/:topic/records': {
    scope: 'tenant',
    need: { resource: 'topic', action: 'consume' },
    headers: EVENT_STREAM,
  },
  'GET /v1/topics/:topic/partitions/:partition/offsets': {
    scope: 'tenant',
    need: { resource: 'topic', action: 'consume' },
    query: () => 'timestamp=0',
  },
  'POST /v1/keys': {
    scope: 'tenant',
    need: { resource: 'tenant', action: 'manage' },
    body: () => ({ name: 'k', permissions: [{ resource: 'topic:x', actions: ['consume'] }] }),
  },
  'GET /v1/keys': { scope: 'tenant', need: { resource: 'tenant', action: 'manage' } },
  'POST /v1/tokens': {
    scope: 'tenant',
    need: { resource: 'topic', action: 'consume' },
    body: (ids) => ({ permissions: [{ resource: `topic:${ids.topic}`, actions: ['consume'] }] }),
  },
  'DELETE /v1/keys/:keyId': { scope: 'tenant', need: { resource: 'tenant', action: 'manage' } },
  // Consumer groups (docs/api.md).
  'GET /v1/groups': { scope: 'tenant', need: 'filtered' },
  'GET /v1/groups/:group': { scope: 'tenant', need: { resource: 'group', action: 'any' } },
  'POST /v1/groups/:group/members': {
    scope: 'tenant',
    need: { resource: 'group', action: 'consume' },
    body: (ids) => ({ topics: [ids.topic] }),
  },
  'POST /v1/groups/:group/members/:memberId/heartbeat': {
    scope: 'tenant',
    need: { resource: 'group', action: 'consume' },
  },
  'DELETE /v1/groups/:group/members/:memberId': { scope: 'tenant', need: { resource: 'group', action: 'consume' } },
  'GET /v1/groups/:group/members/:memberId/records': {
    scope: 'tenant',
    need: { resource: 'group', action: 'consume' },
  },
  'POST /v1/groups/:group/offsets': {
    scope: 'tenant',
    need: { resource: 'group', action: 'consume' },
    body: (ids) => ({ offsets: [{ topic: ids.topic, partition: 0, offset: 0 }] }),
  },
  'GET /v1/groups/:group/offsets': {
    scope: 'tenant',
    need: { resource: 'group', action: 'consume' },
    query: (ids) => `topic=${ids.topic}`,
  },
  // Connectors (docs/connectors.md).
  'POST /v1/connectors': {
    scope: 'tenant',
    need: { resource: 'connector', action: 'manage' },
    body: (ids) => ({ name: ids.connector, kind: 'datagen', config: { topic: ids.topic, template: 'orders' } }),
  },
  'GET /v1/connectors': { scope: 'tenant', need: 'filtered' },
  'GET /v1/connectors/:name': { scope: 'tenant', need: { resource: 'connector', action: 'any' } },
  'PATCH /v1/connectors/:name': {
    scope: 'tenant',
    need: { resource: 'connector', action: 'manage' },
    body: () => ({ state: 'paused' }),
  },
  'DELETE /v1/connectors/:name': { scope: 'tenant', need: { resource: 'connector', action: 'manage' } },
  // Operator API.
  'POST /admin/v1/tenants': { scope: 'operator', body: () => ({ name: 'intruder' }) },
  'GET /admin/v1/tenants': { scope: 'operator' },
  'GET /admin/v1/tenants/:id': { scope: 'operator' },
  'PATCH /admin/v1/tenants/:id': { scope: 'operator', body: () => ({ quotas: { maxTopics: 1 } }) },
  'DELETE /admin/v1/tenants/:id': { scope: 'operator' },
};

interface AppRoute {
  key: string;
  method: string;
  path: string;
}

const appRoutes = (stack: Stack): AppRoute[] => {
  const seen = new Map<string, AppRoute>();
  for (const r of stack.app.routes) {
    if (r.method === 'ALL') continue;
    const key = `${r.method} ${r.path}`;
    seen.set(key, { key, method: r.method, path: r.path });
  }
  return [...seen.values()].sort((a, b) => a.key.localeCompare(b.key));
};

const fill = (path: string, ids: Ids) =>
  path
    .replace(':topic', ids.topic)
    .replace(':group', ids.group)
    .replace(':keyId', ids.keyId)
    .replace(':memberId', ids.memberId)
    .replace(':partition', '0')
    .replace(':name', ids.connector)
    .replace(':id', ids.tenantId);

const call = (api: Api, route: AppRoute, ids: Ids, headers: Record<string, string> = {}, extraQuery = '') => {
  const c = ROUTES[route.key] as RouteCase;
  const params = [c.query?.(ids), extraQuery].filter((q) => q);
  const query = params.length > 0 ? `?${params.join('&')}` : '';
  return api.request(route.method, fill(route.path, ids) + query, c.body?.(ids), { ...c.headers, ...headers });
};

const summary = (res: ApiResponse) => `${res.status} ${res.body?.code ?? ''}`;

let stack: Stack;
let operator: Api;
let a: Api;
let b: Api;
let aIds: Ids;
let bTenantId: string;
const MISSING: Ids = {
  topic: 'no-such-topic-zz',
  group: 'no-such-group-zz',
  keyId: 'zzzzzzzzzzzzzzzz',
  memberId: 'no-such-member-zz',
  tenantId: '00000000-0000-4000-8000-000000000000',
  connector: 'no-such-connector-zz',
};
/** Strings only tenant A's data contains; none may ever show up in B's answers. */
const A_MARKERS = ['a-secret-topic', 'a-secret-value', 'a-secret-header-value'];

const has = (stack: Stack, key: string) => appRoutes(stack).some((r) => r.key === key);

beforeAll(async () => {
  // A stream that opened where it must not ends at once, so the matrix fails instead of hanging.
  stack = await startStack({ deps: { streams: { maxDurationMs: 1 } } });
  operator = apiClient(stack.app, OPERATOR_KEY);
  a = stack.api;
  const created = await operator.post('/admin/v1/tenants', { name: 'tenant-b' });
  b = apiClient(stack.app, created.body.apiKey);
  bTenantId = created.body.tenantId;

  // Tenant A: topics with records, a second key, a group with a member (when groups exist).
  for (const name of ['a-orders', 'a-secret-topic']) {
    expect((await a.post('/v1/topics', { name, partitions: 2 })).status).toBe(201);
    const produced = await a.post(`/v1/topics/${name}/records`, {
      records: [{ key: 'k1', value: 'a-secret-value' }, { value: 'a-secret-value'.repeat(1000) }],
    });
    expect(produced.status).toBe(200);
  }
  const key = await a.post('/v1/keys', { name: 'a-reader', permissions: [{ resource: '*', actions: ['consume'] }] });
  expect(key.status).toBe(201);
  A_MARKERS.push(key.body.keyId, stack.tenantId);
  aIds = {
    topic: 'a-orders',
    group: 'a-group',
    keyId: key.body.keyId,
    memberId: 'a-member',
    tenantId: stack.tenantId,
    connector: 'a-hook',
  };
  if (has(stack, 'POST /v1/connectors')) {
    const hook = await a.post('/v1/connectors', {
      name: 'a-hook',
      kind: 'http-sink',
      config: {
        topics: ['a-orders'],
        url: 'http://127.0.0.1:9/a',
        headers: { Authorization: 'a-secret-header-value' },
      },
    });
    expect(hook.status).toBe(201);
  }
  if (has(stack, 'POST /v1/groups/:group/members')) {
    const joined = await a.post('/v1/groups/a-group/members', { topics: ['a-orders'] });
    expect(joined.status).toBe(200);
    aIds.memberId = joined.body.memberId;
    A_MARKERS.push(joined.body.memberId);
  }
});
afterAll(() => stack.close());

describe('the route list', () => {
  it('classifies every route the app serves (a new route fails here until it is)', () => {
    const unclassified = appRoutes(stack)
      .map((r) => r.key)
      .filter((key) => !(key in ROUTES));
    expect(unclassified).toEqual([]);
    expect(appRoutes(stack).length).toBeGreaterThanOrEqual(15);
  });
});

// First: later tests give tenant B topics and groups named like A's.
describe('BOLA matrix: a tenant-B browser token on every tenant-A route', () => {
  it('answers exactly as for names that do not exist, leaks nothing and changes nothing', async () => {
    const minted = await b.post('/v1/tokens', { permissions: [{ resource: '*', actions: ['consume'] }] });
    expect(minted.status).toBe(201);
    const token: string = minted.body.token;
    const before = await tenantSnapshot(stack.emulators, stack.tenantId);
    const violations: string[] = [];
    let attempts = 0;
    const routes = appRoutes(stack).filter((r) => (ROUTES[r.key] as RouteCase).scope !== 'public');
    for (const route of routes) {
      const c = ROUTES[route.key] as RouteCase;
      // As a bearer token everywhere, and as ?access_token= where a stream can be asked for.
      const ways: [Api, Record<string, string>, string][] = [[apiClient(stack.app, token), {}, '']];
      if (route.method === 'GET' && route.path.endsWith('/records') && !route.path.includes(':memberId')) {
        ways.push([apiClient(stack.app, undefined), EVENT_STREAM, `access_token=${token}`]);
      }
      for (const [api, headers, extraQuery] of ways) {
        attempts++;
        const onA = await call(api, route, aIds, headers, extraQuery);
        const text = JSON.stringify(onA.body ?? '');
        for (const marker of A_MARKERS) {
          if (text.includes(marker) && !fill(route.path, aIds).includes(marker))
            violations.push(`${route.key}: the token's answer mentions A's ${marker}`);
        }
        if (route.path.includes(':')) {
          const onMissing = await call(api, route, MISSING, headers, extraQuery);
          if (summary(onA) !== summary(onMissing)) {
            violations.push(`${route.key}: A's ids gave ${summary(onA)}, missing ids gave ${summary(onMissing)}`);
          }
          if (onA.status < 400) violations.push(`${route.key}: B's token succeeded on A's resource (${onA.status})`);
        }
        if (c.scope === 'operator' && onA.status !== 403) {
          violations.push(`${route.key}: a token got ${onA.status} from the operator API`);
        }
        if (route.method !== 'GET' && onA.status < 400) violations.push(`${route.key}: a token wrote (${onA.status})`);
      }
    }
    const after = await tenantSnapshot(stack.emulators, stack.tenantId);
    console.log(`token BOLA matrix: ${routes.length} endpoints, ${attempts} attempts, ${violations.length} violations`);
    expect(violations).toEqual([]);
    expect(after).toEqual(before);
    expect(attempts).toBeGreaterThan(routes.length);
  });
});

describe('BOLA matrix: tenant B on tenant A’s topics, groups, keys and tenant id', () => {
  it('answers exactly as for names that do not exist, leaks nothing and changes nothing', async () => {
    const before = await tenantSnapshot(stack.emulators, stack.tenantId);
    const violations: string[] = [];
    let attempts = 0;
    // Routes on a named resource first: a collection route (B creating its own topic named
    // like A's) must not turn a later attempt on A's name into a call on B's own resource.
    const routes = appRoutes(stack)
      .filter((r) => (ROUTES[r.key] as RouteCase).scope !== 'public')
      .sort((x, y) => Number(y.path.includes(':')) - Number(x.path.includes(':')));
    for (const route of routes) {
      const hasParams = route.path.includes(':');
      // Tenant id smuggled in the usual places: ignored, the tenant comes from the key.
      const smuggled: [Record<string, string>, string][] = [
        [{}, ''],
        [{ 'X-Tenant-Id': stack.tenantId, 'X-Runnel-Tenant': stack.tenantId }, ''],
        [{}, `tenantId=${stack.tenantId}&tenant=${stack.tenantId}`],
      ];
      for (const [headers, extraQuery] of smuggled) {
        attempts++;
        const onA = await call(b, route, aIds, headers, extraQuery);
        const text = JSON.stringify(onA.body ?? '');
        const asked = fill(route.path, aIds) + extraQuery;
        for (const marker of A_MARKERS) {
          // An id B itself put in the path may be echoed back ("key 'x' does not exist").
          if (text.includes(marker) && !asked.includes(marker))
            violations.push(`${route.key}: B's answer mentions A's ${marker}`);
        }
        if (hasParams) {
          const onMissing = await call(b, route, MISSING, headers, extraQuery);
          if (summary(onA) !== summary(onMissing)) {
            violations.push(`${route.key}: A's ids gave ${summary(onA)}, missing ids gave ${summary(onMissing)}`);
          }
          if (onA.status < 400) violations.push(`${route.key}: B succeeded on A's resource (${onA.status})`);
        }
        if ((ROUTES[route.key] as RouteCase).scope === 'operator' && onA.status !== 403) {
          violations.push(`${route.key}: a tenant key got ${onA.status} from the operator API`);
        }
      }
    }
    const after = await tenantSnapshot(stack.emulators, stack.tenantId);
    console.log(
      `BOLA matrix: ${routes.length} endpoints, ${attempts} cross-tenant attempts, ${violations.length} violations`,
    );
    expect(violations).toEqual([]);
    expect(after).toEqual(before);
    expect(before.length).toBeGreaterThan(5);
    expect(attempts).toBe(3 * routes.length);
  });

  it('keeps the same topic name in two tenants apart', async () => {
    await a.post('/v1/topics', { name: 'same-name', partitions: 1 });
    await b.post('/v1/topics', { name: 'same-name', partitions: 3 });
    await a.post('/v1/topics/same-name/records', { records: [{ value: 'from-a' }] });
    await b.post('/v1/topics/same-name/records', { records: [{ value: 'from-b', partition: 2 }] });
    const fromA = await a.get('/v1/topics/same-name/partitions/0/records');
    expect(fromA.body.records.map((r: any) => r.value)).toEqual(['from-a']);
    expect((await a.get('/v1/topics/same-name')).body.partitions).toBe(1);
    expect((await b.get('/v1/topics/same-name/partitions/2/records')).body.records.map((r: any) => r.value)).toEqual([
      'from-b',
    ]);
    expect((await b.get('/v1/topics/same-name/partitions/0/records')).body.records).toEqual([]);
    expect((await b.delete('/v1/topics/same-name')).status).toBe(204);
    expect((await a.get('/v1/topics/same-name/partitions/0/records')).body.records).toHaveLength(1);
  });

  it('keeps the same group name in two tenants apart (when groups exist)', async () => {
    if (!has(stack, 'POST /v1/groups/:group/members')) return;
    await b.post('/v1/topics', { name: 'a-orders', partitions: 1 });
    const joined = await b.post('/v1/groups/a-group/members', { topics: ['a-orders'] });
    expect(joined.status).toBe(200);
    expect(joined.body.memberId).not.toBe(aIds.memberId);
    const described = await a.get('/v1/groups/a-group');
    expect(described.body.members.map((m: any) => m.memberId)).toEqual([aIds.memberId]);
  });

  it('gives tenant B’s own tenant id no operator powers either', async () => {
    for (const res of [
      await b.get(`/admin/v1/tenants/${bTenantId}`),
      await b.patch(`/admin/v1/tenants/${bTenantId}`, { quotas: { maxTopics: 1000 } }),
      await b.delete(`/admin/v1/tenants/${bTenantId}`),
    ]) {
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('forbidden');
    }
    expect((await b.get('/v1/topics')).status).toBe(200);
  });
});

describe('scoped keys', () => {
  const keyFor = async (permissions: { resource: string; actions: Action[] }[]) => {
    const res = await a.post('/v1/keys', { name: 'scoped', permissions });
    expect(res.status).toBe(201);
    const api = apiClient(stack.app, res.body.apiKey);
    // First use records lastUsedAt; do it before the snapshot.
    await api.get('/v1/topics');
    return api;
  };

  it('cannot exceed their permissions on any endpoint', async () => {
    const otherResource = await keyFor([
      { resource: 'topic:zz-other-*', actions: [...ACTIONS] },
      { resource: 'group:zz-other-*', actions: [...ACTIONS] },
      { resource: 'connector:zz-other-*', actions: [...ACTIONS] },
    ]);
    const wrongAction: Record<string, Record<Action, Api>> = {};
    for (const resource of ['topic', 'group', 'connector', 'tenant'] as const) {
      wrongAction[resource] = {} as Record<Action, Api>;
      for (const action of ACTIONS) {
        const others = ACTIONS.filter((x) => x !== action);
        const pattern = resource === 'tenant' ? '*' : `${resource}:a-*`;
        (wrongAction[resource] as Record<Action, Api>)[action] = await keyFor([{ resource: pattern, actions: others }]);
      }
    }
    const before = await tenantSnapshot(stack.emulators, stack.tenantId);
    const violations: string[] = [];
    let attempts = 0;
    for (const route of appRoutes(stack)) {
      const c = ROUTES[route.key] as RouteCase;
      if (c.scope !== 'tenant' || !c.need || c.need === 'none') continue;
      const ids = { ...aIds, topic: route.key === 'POST /v1/topics' ? 'a-new-topic' : aIds.topic };
      if (c.need === 'filtered') {
        attempts++;
        const res = await call(otherResource, route, ids);
        const text = JSON.stringify(res.body);
        if (res.status === 200 && (text.includes('a-orders') || text.includes('a-group') || text.includes('a-hook'))) {
          violations.push(`${route.key}: lists what the key may not see`);
        }
        continue;
      }
      const need = c.need;
      const keys = [need.resource === 'tenant' ? undefined : otherResource];
      if (need.action !== 'any') keys.push((wrongAction[need.resource] as Record<Action, Api>)[need.action]);
      for (const api of keys) {
        if (!api) continue;
        attempts++;
        const res = await call(api, route, ids);
        if (res.status !== 403 || res.body.code !== 'forbidden') {
          violations.push(`${route.key}: expected 403 forbidden, got ${summary(res)}`);
        }
      }
    }
    const after = await tenantSnapshot(stack.emulators, stack.tenantId);
    console.log(`scoped keys: ${attempts} attempts beyond a key's permissions, ${violations.length} violations`);
    expect(violations).toEqual([]);
    expect(after).toEqual(before);
    expect(attempts).toBeGreaterThanOrEqual(15);
  });

  it('cannot hand out a permission they do not hold', async () => {
    const manager = await keyFor([
      { resource: '*', actions: ['manage'] },
      { resource: 'topic:a-*', actions: ['consume'] },
    ]);
    const refused = [
      [{ resource: '*', actions: ['produce'] }],
      [{ resource: 'topic:*', actions: ['consume'] }],
      [{ resource: 'topic:b-1', actions: ['consume'] }],
      [{ resource: 'topic:a-1', actions: ['consume', 'produce'] }],
    ];
    for (const permissions of refused) {
      const res = await manager.post('/v1/keys', { name: 'escalate', permissions });
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('forbidden');
    }
    const allowed = await manager.post('/v1/keys', {
      name: 'narrower',
      permissions: [
        { resource: 'topic:a-eu-*', actions: ['consume'] },
        { resource: '*', actions: ['manage'] },
      ],
    });
    expect(allowed.status).toBe(201);
  });
});
