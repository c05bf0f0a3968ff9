import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, createServices } from '#shared/app/create-app';
import { DEFAULT_QUOTAS } from '#shared/domain/quotas';
import { USAGE_SHARDS } from '#shared/ports/usage-store';
import { USAGE_REFRESH_MS } from '#shared/services/quotas';
import { type Api, apiClient, expectProblem, OPERATOR_KEY, type Stack, startStack } from './harness';
import { storedItems, usageShards } from './tenant-state';

/** A clock the test moves by hand: rate windows and key caches become deterministic. */
let now = Date.UTC(2026, 0, 1, 12, 0, 0, 250);
const clock = () => now;
const logs: Record<string, unknown>[] = [];

let stack: Stack;
let operator: Api;
beforeAll(async () => {
  stack = await startStack({ clock, log: (entry) => logs.push(entry), corsOrigins: ['https://console.example.com'] });
  operator = apiClient(stack.app, OPERATOR_KEY);
});
afterAll(() => stack.close());

/** Another warm function instance: same tables, its own caches. */
const otherInstance = () => {
  const services = createServices(stack.deps);
  return createApp(stack.deps, services);
};

const newTenant = async (name: string, quotas?: Record<string, number>) => {
  const res = await operator.post('/admin/v1/tenants', quotas ? { name, quotas } : { name });
  expect(res.status).toBe(201);
  return {
    id: res.body.tenantId as string,
    key: res.body.apiKey as string,
    api: apiClient(stack.app, res.body.apiKey),
  };
};

describe('operator API', () => {
  it('creates a tenant with quotas, shows them with the defaults, updates and resets them', async () => {
    const t = await newTenant('quota-co', { maxTopics: 7, produceBytesPerSec: 4096 });
    const shown = await operator.get(`/admin/v1/tenants/${t.id}`);
    expect(shown.status).toBe(200);
    expect(shown.body.quotas).toEqual({ ...DEFAULT_QUOTAS, maxTopics: 7, produceBytesPerSec: 4096 });
    const patched = await operator.patch(`/admin/v1/tenants/${t.id}`, {
      quotas: { maxTopics: null, maxPartitions: 12, maxRetentionMs: 86_400_000 },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.quotas).toEqual({
      ...DEFAULT_QUOTAS,
      maxPartitions: 12,
      maxRetentionMs: 86_400_000,
      produceBytesPerSec: 4096,
    });
    const listed = await operator.get('/admin/v1/tenants');
    expect(listed.body.tenants.find((x: any) => x.tenantId === t.id).quotas.maxPartitions).toBe(12);
  });

  it.each([
    [{ quotas: { maxTopics: -1 } }],
    [{ quotas: { maxTopics: 1.5 } }],
    [{ quotas: { maxTopics: '3' } }],
    [{ quotas: { produceBytesPerSec: 10 } }],
    [{ quotas: { maxRetentionMs: 0 } }],
    [{ quotas: { maxRetentionMs: -2 } }],
    [{ quotas: { nonsense: 1 } }],
    [{ quotas: { maxTopics: 3 }, name: 'rename' }],
    [{}],
  ])('refuses a bad quota change %j with 400 and changes nothing', async (body) => {
    const t = await newTenant('strict-co', { maxTopics: 3 });
    expectProblem(await operator.patch(`/admin/v1/tenants/${t.id}`, body), 400, 'invalid_request');
    expect((await operator.get(`/admin/v1/tenants/${t.id}`)).body.quotas.maxTopics).toBe(3);
  });

  it('refuses bad quotas at creation and creates nothing', async () => {
    const before = (await operator.get('/admin/v1/tenants')).body.tenants.length;
    expectProblem(
      await operator.post('/admin/v1/tenants', { name: 'bad', quotas: { fetchBytesPerSec: 0 } }),
      400,
      'invalid_request',
    );
    expect((await operator.get('/admin/v1/tenants')).body.tenants.length).toBe(before);
  });

  it('answers 404 tenant_not_found for an unknown tenant on get, patch and delete', async () => {
    const id = '0f0f0f0f-0000-4000-8000-000000000000';
    expectProblem(await operator.get(`/admin/v1/tenants/${id}`), 404, 'tenant_not_found');
    expectProblem(
      await operator.patch(`/admin/v1/tenants/${id}`, { quotas: { maxTopics: 1 } }),
      404,
      'tenant_not_found',
    );
    expectProblem(await operator.delete(`/admin/v1/tenants/${id}`), 404, 'tenant_not_found');
  });

  it('deletes a tenant: keys fail at once here, within the cache TTL elsewhere; data unreachable; tombstone left', async () => {
    const t = await newTenant('doomed');
    const second = await t.api.post('/v1/keys', {
      name: 'two',
      permissions: [{ resource: '*', actions: ['consume'] }],
    });
    await t.api.post('/v1/topics', { name: 'doomed-topic', partitions: 1 });
    await t.api.post('/v1/topics/doomed-topic/records', { records: [{ value: 'bye' }] });
    const elsewhere = apiClient(otherInstance(), t.key);
    expect((await elsewhere.get('/v1/topics')).status).toBe(200);

    expect((await operator.delete(`/admin/v1/tenants/${t.id}`)).status).toBe(204);
    expectProblem(await t.api.get('/v1/topics'), 401, 'unauthorized');
    expectProblem(await apiClient(stack.app, second.body.apiKey).get('/v1/topics'), 401, 'unauthorized');
    expectProblem(await t.api.get('/v1/topics/doomed-topic/partitions/0/records'), 401, 'unauthorized');
    // The other instance trusts its cached tenant for at most the TTL, then refuses.
    now += 5_000;
    expectProblem(await elsewhere.get('/v1/topics'), 401, 'unauthorized');

    expect((await operator.get('/admin/v1/tenants')).body.tenants.map((x: any) => x.tenantId)).not.toContain(t.id);
    expectProblem(await operator.delete(`/admin/v1/tenants/${t.id}`), 404, 'tenant_not_found');
    const tombstones = await stack.deps.metadata.listTenantTombstones();
    expect(tombstones).toContainEqual({ tenantId: t.id, name: 'doomed', deletedAt: expect.any(Number) });
    const items = await storedItems(stack.emulators);
    // No key hash of the tenant stays behind; its topics wait for maintenance.
    expect(items.filter((line) => line.includes('"APIKEY"') && line.includes(t.id))).toEqual([]);
    expect(items.some((line) => line.includes(`TENANT#${t.id}`) && line.includes('doomed-topic'))).toBe(true);
  });

  it('finishes a deletion that died after marking the tenant', async () => {
    const t = await newTenant('half-deleted');
    // Step 1 of the deletion only, as if the function died right after it.
    const { UpdateCommand } = await import('@aws-sdk/lib-dynamodb');
    await stack.emulators.dynamodb.send(
      new UpdateCommand({
        TableName: stack.emulators.storage.tables.metadata,
        Key: { pk: 'TENANTS', sk: `TENANT#${t.id}` },
        UpdateExpression: 'SET deletedAt = :at',
        ExpressionAttributeValues: { ':at': now },
      }) as any,
    );
    now += 5_000;
    expectProblem(await t.api.get('/v1/topics'), 401, 'unauthorized');
    expect((await operator.delete(`/admin/v1/tenants/${t.id}`)).status).toBe(204);
    expect((await stack.deps.metadata.listTenantTombstones()).map((x) => x.tenantId)).toContain(t.id);
    expect(await stack.deps.metadata.getTenant(t.id)).toBeUndefined();
  });
});

describe('tenant keys', () => {
  it('creates a key shown once, lists keys without secrets, revokes at once here and within the TTL elsewhere', async () => {
    const t = await newTenant('key-co');
    const created = await t.api.post('/v1/keys', {
      name: 'orders-writer',
      permissions: [{ resource: 'topic:orders-*', actions: ['produce'] }],
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'orders-writer', permissions: [{ resource: 'topic:orders-*' }] });
    const { keyId, apiKey } = created.body;
    expect(apiKey).toMatch(new RegExp(`^rnl_${keyId}_`));

    const writer = apiClient(stack.app, apiKey);
    await t.api.post('/v1/topics', { name: 'orders-eu', partitions: 1 });
    expect((await writer.post('/v1/topics/orders-eu/records', { records: [{ value: 'x' }] })).status).toBe(200);
    expectProblem(await writer.get('/v1/topics/orders-eu/partitions/0/records'), 403, 'forbidden');
    expectProblem(await writer.get('/v1/keys'), 403, 'forbidden');

    const listed = await t.api.get('/v1/keys');
    expect(listed.status).toBe(200);
    expect(listed.body.keys.map((k: any) => k.name).sort()).toEqual(['initial', 'orders-writer']);
    const text = JSON.stringify(listed.body);
    expect(text).not.toContain(apiKey);
    expect(text).not.toContain(apiKey.slice(-43));
    expect(text).not.toMatch(/secretHash|[0-9a-f]{64}/);
    expect(listed.body.keys.find((k: any) => k.keyId === keyId).lastUsedAt).toBe(now);

    const elsewhere = apiClient(otherInstance(), apiKey);
    expect((await elsewhere.post('/v1/topics/orders-eu/records', { records: [{ value: 'y' }] })).status).toBe(200);
    expect((await t.api.delete(`/v1/keys/${keyId}`)).status).toBe(204);
    expectProblem(
      await writer.post('/v1/topics/orders-eu/records', { records: [{ value: 'z' }] }),
      401,
      'unauthorized',
    );
    now += 5_000;
    expectProblem(
      await elsewhere.post('/v1/topics/orders-eu/records', { records: [{ value: 'z' }] }),
      401,
      'unauthorized',
    );
    expectProblem(await t.api.delete(`/v1/keys/${keyId}`), 404, 'key_not_found');
    expect((await t.api.get('/v1/topics/orders-eu/partitions/0/records')).body.records).toHaveLength(2);
  });

  it('records last use with at most one write per key per interval on an instance', async () => {
    const t = await newTenant('busy-co');
    await t.api.get('/v1/topics');
    stack.calls.reset();
    for (let i = 0; i < 20; i++) await t.api.get('/v1/topics/bad%20name');
    // Warm key and tenant: authentication made no DynamoDB call at all.
    expect(stack.calls.total('DynamoDB.')).toBe(0);
    now += 5 * 60_000;
    await t.api.get('/v1/topics/bad%20name');
    // After the interval and the cache TTL: the key, the tenant, and one last-use write.
    expect(stack.calls.snapshot()).toEqual({ 'DynamoDB.GetItem': 2, 'DynamoDB.UpdateItem': 1 });
  });

  it.each([
    [{ name: 'k', permissions: [] }],
    [{ name: '', permissions: [{ resource: '*', actions: ['consume'] }] }],
    [{ name: 'k', permissions: [{ resource: 'tenant', actions: ['manage'] }] }],
    [{ name: 'k', permissions: [{ resource: 'topic:', actions: ['consume'] }] }],
    [{ name: 'k', permissions: [{ resource: 'topic:a b', actions: ['consume'] }] }],
    [{ name: 'k', permissions: [{ resource: 'topics:a', actions: ['consume'] }] }],
    [{ name: 'k', permissions: [{ resource: '*', actions: [] }] }],
    [{ name: 'k', permissions: [{ resource: '*', actions: ['read'] }] }],
    [{ name: 'k', permissions: [{ resource: '*', actions: ['consume', 'consume'] }] }],
    [{ name: 'k', permissions: [{ resource: '*', actions: ['consume'], extra: 1 }] }],
    [{ name: 'k', permissions: [{ resource: '*', actions: ['consume'] }], tenantId: 'x' }],
    [{ permissions: [{ resource: '*', actions: ['consume'] }] }],
    ['nope'],
  ])('refuses a bad key request %j with 400 and creates no key', async (body) => {
    const t = await newTenant('validating-co');
    expectProblem(await t.api.post('/v1/keys', body), 400, 'invalid_request');
    expect((await t.api.get('/v1/keys')).body.keys).toHaveLength(1);
  });

  it('answers 404 key_not_found for an unknown key id and 400 for a malformed one', async () => {
    const t = await newTenant('lookup-co');
    expectProblem(await t.api.delete('/v1/keys/abcdefghijklmnop'), 404, 'key_not_found');
    expectProblem(await t.api.delete('/v1/keys/NOT_AN_ID'), 400, 'invalid_request');
  });
});

describe('count quotas', () => {
  it('refuses topics, partitions and retention over the tenant quotas with 403 quota_exceeded', async () => {
    const t = await newTenant('small-co', { maxTopics: 2, maxPartitions: 5, maxRetentionMs: 86_400_000 });
    const first = await t.api.post('/v1/topics', { name: 't1', partitions: 3 });
    expect(first.status).toBe(201);
    // No retention asked for: the default, shortened to the cap.
    expect(first.body.retentionMs).toBe(86_400_000);
    expectProblem(await t.api.post('/v1/topics', { name: 't2', partitions: 3 }), 403, 'quota_exceeded');
    expectProblem(
      await t.api.post('/v1/topics', { name: 't2', partitions: 1, retentionMs: 86_400_001 }),
      403,
      'quota_exceeded',
    );
    expectProblem(
      await t.api.post('/v1/topics', { name: 't2', partitions: 1, retentionMs: -1 }),
      403,
      'quota_exceeded',
    );
    expect((await t.api.post('/v1/topics', { name: 't2', partitions: 2 })).status).toBe(201);
    const third = await t.api.post('/v1/topics', { name: 't3', partitions: 1 });
    expectProblem(third, 403, 'quota_exceeded');
    expect(third.body.quota).toBe('maxTopics');
    expectProblem(await t.api.patch('/v1/topics/t1', { partitions: 4 }), 403, 'quota_exceeded');
    expectProblem(await t.api.patch('/v1/topics/t1', { retentionMs: -1 }), 403, 'quota_exceeded');
    expect((await t.api.get('/v1/topics')).body.topics.map((x: any) => [x.name, x.partitions, x.retentionMs])).toEqual([
      ['t1', 3, 86_400_000],
      ['t2', 2, 86_400_000],
    ]);
    // Raised by the operator: in force at once on this instance.
    await operator.patch(`/admin/v1/tenants/${t.id}`, { quotas: { maxPartitions: 6 } });
    expect((await t.api.patch('/v1/topics/t1', { partitions: 4 })).status).toBe(200);
  });
});

describe('rate quotas', () => {
  const highWatermark = async (api: Api, topic: string) =>
    (await api.get(`/v1/topics/${topic}`)).body.partitionStates.reduce((n: number, p: any) => n + p.highWatermark, 0);

  it('throttles produce over the rate with 429 and Retry-After, and writes nothing of a throttled request', async () => {
    const t = await newTenant('rate-co', { produceBytesPerSec: 1024 });
    await t.api.post('/v1/topics', { name: 'r', partitions: 2 });
    now = Math.floor(now / 1000) * 1000 + 1000 + 100;
    const statuses: number[] = [];
    let throttled: any;
    for (let i = 0; i < 20; i++) {
      const res = await t.api.post('/v1/topics/r/records', {
        records: [{ key: `k${i}`, value: 'v'.repeat(100 - `k${i}`.length) }],
      });
      statuses.push(res.status);
      if (res.status === 429) throttled = res;
    }
    // The window admits while its count is under 1,024 bytes: 11 requests of 100 bytes.
    expect(statuses.filter((s) => s === 200)).toHaveLength(11);
    expect(statuses.filter((s) => s === 429)).toHaveLength(9);
    expectProblem(throttled, 429, 'throttled');
    expect(throttled.headers.get('retry-after')).toBe('1');
    expect(await highWatermark(t.api, 'r')).toBe(11);
    now += 1000;
    expect((await t.api.post('/v1/topics/r/records', { records: [{ value: 'next second' }] })).status).toBe(200);
    expect(await highWatermark(t.api, 'r')).toBe(12);
  });

  it('refuses produce once the approximate stored bytes reach maxStorageBytes (403)', async () => {
    const t = await newTenant('full-co', { maxStorageBytes: 500 });
    await t.api.post('/v1/topics', { name: 's', partitions: 1 });
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      now += 1000;
      statuses.push((await t.api.post('/v1/topics/s/records', { records: [{ value: 'x'.repeat(100) }] })).status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 403, 403, 403]);
    expect(await highWatermark(t.api, 's')).toBe(5);
  });

  it('throttles fetch once the window’s fetched bytes pass the rate', async () => {
    const t = await newTenant('reader-co', { fetchBytesPerSec: 1024 });
    await t.api.post('/v1/topics', { name: 'f', partitions: 1 });
    await t.api.post('/v1/topics/f/records', { records: [{ value: 'y'.repeat(600) }] });
    now = Math.floor(now / 1000) * 1000 + 1000 + 100;
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await t.api.get('/v1/topics/f/partitions/0/records')).status);
    expect(statuses).toEqual([200, 200, 429, 429]);
    now += 1000;
    expect((await t.api.get('/v1/topics/f/partitions/0/records')).status).toBe(200);
  });

  it('spreads produce usage over the shards: one write per produce in the steady state, no item takes them all; fetches write with the next request', async () => {
    const t = await newTenant('counted-co');
    await t.api.post('/v1/topics', { name: 'c', partitions: 1 });
    await t.api.post('/v1/topics/c/records', { records: [{ value: 'warm' }] });
    const produce = async () => {
      stack.calls.reset();
      expect((await t.api.post('/v1/topics/c/records', { records: [{ value: 'x' }] })).status).toBe(200);
      // The answer does not wait for the usage write: count it with its own request.
      await stack.services.quotas.drain();
      return stack.calls.snapshot();
    };
    // Same second. A shard this instance has not written in this second gets the write
    // that opens its window, one that adds to it otherwise: each produce costs one write
    // and no read (this instance's knowledge is fresh: the clock stands still).
    const writes: number[] = [];
    for (let i = 0; i < 2 * USAGE_SHARDS; i++) {
      const calls = await produce();
      expect(calls['DynamoDB.Query']).toBe(1); // the partition's tail; no usage read
      // One writer alone appends at the tail: no offset reservation, so every UpdateItem is usage.
      writes.push(calls['DynamoDB.UpdateItem'] ?? 0);
    }
    expect(writes).toEqual(Array(2 * USAGE_SHARDS).fill(1));
    const shards = await usageShards(stack.emulators, t.id, 'produce');
    expect(shards).toHaveLength(USAGE_SHARDS);
    // 1 + 2 × 32 produces of 4 + 1 bytes: each shard got 2 of them, one got the warm-up too.
    expect(Math.max(...shards.map((i) => Number(i.storedBytes)))).toBe(2 + 4);
    expect(shards.reduce((n, i) => n + Number(i.storedBytes), 0)).toBe(4 + 2 * USAGE_SHARDS);
    now += 1000;
    // A new second: one read of the shards (alongside the topic lookup), then the one
    // write that opens the shard's new window.
    const next = await produce();
    expect(next['DynamoDB.Query']).toBe(2); // the shards and the partition's tail
    expect(next['DynamoDB.UpdateItem']).toBe(1); // the window-opening usage write
    // A fetch counts its bytes on the instance and writes nothing: the bytes go to a fetch
    // shard with the tenant's next request here, alongside its topic lookup.
    stack.calls.reset();
    expect((await t.api.get('/v1/topics/c/partitions/0/records')).body.records.length).toBeGreaterThan(0);
    expect(stack.calls.get('DynamoDB.UpdateItem')).toBe(0);
    stack.calls.reset();
    await t.api.get('/v1/topics/c/partitions/0/records?offset=latest');
    await stack.services.quotas.drain(); // sent beside the answer
    expect(stack.calls.get('DynamoDB.UpdateItem')).toBeLessThanOrEqual(2);
    expect(stack.calls.get('DynamoDB.UpdateItem')).toBeGreaterThanOrEqual(1);
    expect((await usageShards(stack.emulators, t.id, 'fetch')).length).toBe(1);
    stack.calls.reset();
    await t.api.get('/v1/topics/c/partitions/0/records?offset=latest');
    await stack.services.quotas.drain();
    expect(stack.calls.get('DynamoDB.UpdateItem')).toBe(0);
  });

  it('shares usage between instances: another instance refuses once it has read the shards', async () => {
    const t = await newTenant('shared-co', { produceBytesPerSec: 1024 });
    await t.api.post('/v1/topics', { name: 'r', partitions: 1 });
    now = Math.floor(now / 1000) * 1000 + 1000 + 100;
    const other = apiClient(otherInstance(), t.key);
    // The other instance reads the shards now (fresh for USAGE_REFRESH_MS): nothing used yet.
    expect((await other.post('/v1/topics/r/records', { records: [{ value: 'v'.repeat(100) }] })).status).toBe(200);
    for (let i = 0; i < 10; i++)
      expect((await t.api.post('/v1/topics/r/records', { records: [{ value: 'v'.repeat(100) }] })).status).toBe(200);
    // 1,100 bytes are counted, but the other instance's knowledge is still fresh: it admits
    // (the accuracy rule: an instance does not see others' bytes for up to USAGE_REFRESH_MS).
    expect((await other.post('/v1/topics/r/records', { records: [{ value: 'v'.repeat(100) }] })).status).toBe(200);
    now += USAGE_REFRESH_MS;
    // Stale, but knowledge of this second: it still decides (and admits) while the re-read
    // runs beside the request; the request answers once the read is done, so the next one
    // refuses. The first instance knew already.
    expect((await other.post('/v1/topics/r/records', { records: [{ value: 'v' }] })).status).toBe(200);
    expectProblem(await other.post('/v1/topics/r/records', { records: [{ value: 'v' }] }), 429, 'throttled');
    expectProblem(await t.api.post('/v1/topics/r/records', { records: [{ value: 'v' }] }), 429, 'throttled');
    // A new second, used up by the first instance: the other's knowledge is of the last
    // second and says nothing of this one, so it reads before deciding, and refuses.
    now += 1000;
    for (let i = 0; i < 11; i++)
      expect((await t.api.post('/v1/topics/r/records', { records: [{ value: 'v'.repeat(100) }] })).status).toBe(200);
    expectProblem(await other.post('/v1/topics/r/records', { records: [{ value: 'v' }] }), 429, 'throttled');
  });
});

describe('CORS', () => {
  it('answers preflights and requests from allowed origins only', async () => {
    const preflight = await stack.app.request('/v1/topics', {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://console.example.com',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization,content-type',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://console.example.com');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('Authorization');
    const allowed = await stack.api.request('GET', '/v1/topics', undefined, { Origin: 'https://console.example.com' });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://console.example.com');
    const refused = await stack.api.request('GET', '/v1/topics', undefined, { Origin: 'https://evil.example' });
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    const problem = await apiClient(stack.app, 'wrong').request('GET', '/v1/topics', undefined, {
      Origin: 'https://console.example.com',
    });
    expect(problem.status).toBe(401);
    expect(problem.headers.get('access-control-allow-origin')).toBe('https://console.example.com');
  });

  it('lets browser scripts read Location, Retry-After and the request id', async () => {
    const created = await stack.api.request(
      'POST',
      '/v1/topics',
      { name: 'cors-read', partitions: 1 },
      {
        Origin: 'https://console.example.com',
      },
    );
    expect(created.status).toBe(201);
    const exposed = (created.headers.get('access-control-expose-headers') ?? '').toLowerCase().split(/\s*,\s*/);
    expect(exposed).toEqual(expect.arrayContaining(['location', 'retry-after', 'x-request-id']));
  });

  it('sends no CORS headers when no origin is configured', async () => {
    const plain = await startStack();
    try {
      const res = await plain.api.request('GET', '/v1/topics', undefined, { Origin: 'https://console.example.com' });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await plain.close();
    }
  });
});

describe('secrets', () => {
  it('never writes a key to the logs, to a response after creation, or in clear to storage', async () => {
    logs.length = 0;
    const t = await newTenant('secret-co');
    const created = await t.api.post('/v1/keys', { name: 'k', permissions: [{ resource: '*', actions: ['consume'] }] });
    const keys = [t.key, created.body.apiKey as string, OPERATOR_KEY];
    const secrets = [...keys, ...keys.map((k) => k.slice(-43))];
    const scoped = apiClient(stack.app, created.body.apiKey);
    await scoped.get('/v1/topics');
    await scoped.post('/v1/topics', { name: 'x', partitions: 1 });
    await apiClient(stack.app, `${created.body.apiKey}x`).get('/v1/topics');
    await t.api.get('/v1/keys');
    await operator.get('/admin/v1/tenants');
    await t.api.request('GET', '/v1/topics?apiKey=leak', undefined, { 'X-Api-Key': t.key });

    const logText = JSON.stringify(logs);
    expect(logs.length).toBeGreaterThanOrEqual(7);
    expect(logs.filter((l) => l.msg === 'request' && l.tenantId === t.id).length).toBeGreaterThan(0);
    expect(logs.some((l) => l.status === 401 && l.code === 'unauthorized')).toBe(true);
    for (const secret of secrets) expect(logText).not.toContain(secret);

    const listed = JSON.stringify((await t.api.get('/v1/keys')).body);
    const tenants = JSON.stringify((await operator.get('/admin/v1/tenants')).body);
    for (const secret of secrets) {
      expect(listed).not.toContain(secret);
      expect(tenants).not.toContain(secret);
    }

    const stored = (await storedItems(stack.emulators)).join('\n');
    for (const secret of secrets) expect(stored).not.toContain(secret);
    // What is stored is the hash.
    const { hashApiKey } = await import('#shared/domain/api-keys');
    expect(stored).toContain(hashApiKey(created.body.apiKey));
  });
});
