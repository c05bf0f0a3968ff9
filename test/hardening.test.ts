import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, createServices } from '#shared/app/create-app';
import { apiClient, expectProblem, nextLongPollWait, type Stack, startStack } from './harness';

/** Findings of an adversarial probe, each closed: headers, strict UTF-8, routing, revocation. */
let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
  expect((await stack.api.post('/v1/topics', { name: 'probe', partitions: 1 })).status).toBe(201);
});
afterAll(() => stack.close());

const rawProduce = (body: Uint8Array | string, contentType = 'application/json') =>
  stack.app.request('/v1/topics/probe/records', {
    method: 'POST',
    headers: { Authorization: `Bearer ${stack.apiKey}`, 'Content-Type': contentType },
    body,
  });

const highWatermark = async () => {
  const res = await stack.api.get('/v1/topics/probe/partitions/0/records?offset=0');
  return res.body.highWatermark as number;
};

describe('security headers', () => {
  it('sends nosniff on every response and no-store on API answers', async () => {
    const health = await stack.app.request('/healthz');
    expect(health.headers.get('X-Content-Type-Options')).toBe('nosniff');
    const created = await stack.api.post('/v1/keys', {
      name: 'reader',
      permissions: [{ resource: '*', actions: ['consume'] }],
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('Cache-Control')).toBe('no-store');
    expect(created.headers.get('X-Content-Type-Options')).toBe('nosniff');
    const tenant = await stack.apiAs('test-operator-key-0123456789abcdef').post('/admin/v1/tenants', { name: 'h' });
    expect(tenant.status).toBe(201);
    expect(tenant.headers.get('Cache-Control')).toBe('no-store');
  });

  it('names the Bearer scheme on a 401', async () => {
    const res = await stack.apiAs('not-a-key').get('/v1/topics');
    expectProblem(res, 401, 'unauthorized');
    expect(res.headers.get('WWW-Authenticate')).toMatch(/^Bearer/);
  });
});

describe('record text is UTF-8 or refused, never altered', () => {
  it('refuses invalid UTF-8 bytes', async () => {
    const before = await highWatermark();
    const prefix = new TextEncoder().encode('{"records":[{"value":"a');
    const suffix = new TextEncoder().encode('"}]}');
    const body = new Uint8Array([...prefix, 0xff, 0xfe, ...suffix]);
    const res = await rawProduce(body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { detail: string }).detail).toMatch(/UTF-8/);
    expect(await highWatermark()).toBe(before);
  });

  it('refuses a lone surrogate escape, and keeps a paired one', async () => {
    const before = await highWatermark();
    const lone = await rawProduce('{"records":[{"value":"x\\ud800y"}]}');
    expect(lone.status).toBe(400);
    expect(await highWatermark()).toBe(before);
    const pair = await rawProduce('{"records":[{"value":"\\ud83d\\ude00"}]}');
    expect(pair.status).toBe(200);
    const read = await stack.api.get(`/v1/topics/probe/partitions/0/records?offset=${before}`);
    expect(read.body.records[0].value).toBe('😀');
  });

  it('refuses a body declared in another charset', async () => {
    const before = await highWatermark();
    const res = await rawProduce('{"records":[{"value":"caf\u00e9"}]}', 'application/json; charset=iso-8859-1');
    expect(res.status).toBe(400);
    expect(await highWatermark()).toBe(before);
    const utf8 = await rawProduce('{"records":[{"value":"caf\u00e9"}]}', 'application/json; charset=utf-8');
    expect(utf8.status).toBe(200);
  });
});

describe('routing', () => {
  it('answers a trailing slash with 404, not a 405 that allows the method used', async () => {
    expectProblem(await stack.api.get('/v1/topics/'), 404, 'not_found');
    expectProblem(await stack.api.request('PUT', '/v1/topics'), 405, 'method_not_allowed');
  });
});

describe('revoking follows the rule of minting', () => {
  it('a narrow manage key cannot revoke a stronger key, but can revoke one it covers', async () => {
    const narrow = await stack.api.post('/v1/keys', {
      name: 'narrow-admin',
      permissions: [
        { resource: '*', actions: ['manage'] },
        { resource: 'topic:probe', actions: ['consume'] },
      ],
    });
    const strong = await stack.api.post('/v1/keys', {
      name: 'strong',
      permissions: [{ resource: '*', actions: ['produce', 'consume', 'manage'] }],
    });
    const weak = await stack.api.post('/v1/keys', {
      name: 'weak',
      permissions: [{ resource: 'topic:probe', actions: ['consume'] }],
    });
    const asNarrow = stack.apiAs(narrow.body.apiKey);
    expectProblem(await asNarrow.delete(`/v1/keys/${strong.body.keyId}`), 403, 'forbidden');
    expect((await stack.apiAs(strong.body.apiKey).get('/v1/topics')).status).toBe(200); // still works
    expect((await asNarrow.delete(`/v1/keys/${weak.body.keyId}`)).status).toBe(204);
    expectProblem(await stack.apiAs(weak.body.apiKey).get('/v1/topics/probe'), 401, 'unauthorized');
    expectProblem(await asNarrow.delete('/v1/keys/nosuchkey0'), 404, 'key_not_found');
  });
});

describe('failed authentication is throttled per client address', () => {
  it('refuses an address out of failed attempts before any storage lookup, and lets others and good keys through', async () => {
    let now = Date.UTC(2026, 0, 1);
    const throttledStack = await startStack({
      clock: () => now,
      deps: { clientAddress: (c) => c.req.header('X-Test-Client'), failedAuth: { burst: 5, refillPerSecond: 1 } },
    });
    try {
      const from = (address: string, key: string) =>
        throttledStack.app.request('/v1/topics', {
          headers: { Authorization: `Bearer ${key}`, 'X-Test-Client': address },
        });
      for (let i = 0; i < 5; i++) expect((await from('198.51.100.7', `rnl_guess${i}_x`)).status).toBe(401);
      const lookups = throttledStack.calls.total();
      const refused = await from('198.51.100.7', 'rnl_guess9_x');
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('Retry-After'))).toBeGreaterThanOrEqual(1);
      expect(throttledStack.calls.total()).toBe(lookups); // no storage call for a throttled guess
      // Another address, and the tenant's own key from any address, still get through.
      expect((await from('203.0.113.9', 'rnl_guess10_x')).status).toBe(401);
      expect((await from('203.0.113.9', throttledStack.apiKey)).status).toBe(200);
      // One failed attempt is earned back per second.
      now += 1000;
      expect((await from('198.51.100.7', 'rnl_guess11_x')).status).toBe(401);
      expect((await from('198.51.100.7', 'rnl_guess12_x')).status).toBe(429);
    } finally {
      await throttledStack.close();
    }
  });
});

describe('a long poll re-checks its key before answering with data', () => {
  it('a key revoked on another instance while the poll waited gets 401, not the record', async () => {
    expect((await stack.api.post('/v1/topics', { name: 'revoked-poll', partitions: 1 })).status).toBe(201);
    const reader = await stack.api.post('/v1/keys', {
      name: 'poller',
      permissions: [{ resource: 'topic:revoked-poll', actions: ['consume'] }],
    });
    const poller = stack.apiAs(reader.body.apiKey);
    // The key is known (cached) on this instance before the poll starts.
    expect((await poller.get('/v1/topics/revoked-poll/partitions/0/records?offset=0')).status).toBe(200);
    const began = nextLongPollWait(stack);
    const waiting = poller.get('/v1/topics/revoked-poll/partitions/0/records?offset=0&waitMs=20000');
    await began;
    // Another warm instance (same tables, its own caches) revokes the key, then a record arrives.
    const other = apiClient(createApp(stack.deps, createServices(stack.deps)), stack.apiKey);
    expect((await other.delete(`/v1/keys/${reader.body.keyId}`)).status).toBe(204);
    expect((await stack.api.post('/v1/topics/revoked-poll/records', { records: [{ value: 'secret' }] })).status).toBe(
      200,
    );
    const answered = await waiting;
    expectProblem(answered, 401, 'unauthorized');
    expect(JSON.stringify(answered.body)).not.toContain('secret');
  });
});
