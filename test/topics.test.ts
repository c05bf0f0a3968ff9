import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiResponse, apiClient, expectProblem as expectAnyProblem, type Stack, startStack } from './harness';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

const expectProblem = (res: ApiResponse, status: number, code: string) => {
  expectAnyProblem(res, status, code);
  expect(res.body).toMatchObject({ type: `urn:runnel:problem:${code}` });
  expect(typeof res.body.title).toBe('string');
  expect(typeof res.body.detail).toBe('string');
};

describe('topics', () => {
  it('creates, lists, describes, grows and deletes a topic', async () => {
    const { api } = stack;
    const created = await api.post('/v1/topics', { name: 'orders', partitions: 3 });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'orders', partitions: 3, retentionMs: 7 * 24 * 3600 * 1000 });
    expect(typeof created.body.createdAt).toBe('number');

    const listed = await api.get('/v1/topics');
    expect(listed.body.topics.map((t: any) => t.name)).toContain('orders');

    const described = await api.get('/v1/topics/orders');
    expect(described.status).toBe(200);
    expect(described.body.partitionStates).toEqual([
      { partition: 0, logStartOffset: 0, highWatermark: 0, retainedBytes: 0, segments: 0, statsComplete: true },
      { partition: 1, logStartOffset: 0, highWatermark: 0, retainedBytes: 0, segments: 0, statsComplete: true },
      { partition: 2, logStartOffset: 0, highWatermark: 0, retainedBytes: 0, segments: 0, statsComplete: true },
    ]);

    const grown = await api.patch('/v1/topics/orders', { partitions: 5, retentionMs: -1 });
    expect(grown.status).toBe(200);
    expect(grown.body).toMatchObject({ partitions: 5, retentionMs: -1 });
    expectProblem(await api.patch('/v1/topics/orders', { partitions: 2 }), 400, 'invalid_request');

    expect((await api.delete('/v1/topics/orders')).status).toBe(204);
    expectProblem(await api.get('/v1/topics/orders'), 404, 'topic_not_found');
    expectProblem(await api.delete('/v1/topics/orders'), 404, 'topic_not_found');
  });

  it('refuses a duplicate name with 409 topic_exists and keeps the first topic', async () => {
    const { api } = stack;
    expect((await api.post('/v1/topics', { name: 'dup', partitions: 2 })).status).toBe(201);
    const dup = await api.post('/v1/topics', { name: 'dup', partitions: 9 });
    expectProblem(dup, 409, 'topic_exists');
    // The problem says what holds the name, so a client can tell "mine already" from "someone else's".
    expect(dup.body.existing).toMatchObject({ name: 'dup', partitions: 2 });
    expect((await api.get('/v1/topics/dup')).body.partitions).toBe(2);
  });

  it('makes a deleted topic unreadable at once, and a recreated one starts empty', async () => {
    const { api } = stack;
    await api.post('/v1/topics', { name: 'phoenix', partitions: 1 });
    const produced = await api.post('/v1/topics/phoenix/records', { records: [{ value: 'old' }] });
    expect(produced.status).toBe(200);
    expect((await api.delete('/v1/topics/phoenix')).status).toBe(204);
    expectProblem(await api.get('/v1/topics/phoenix/partitions/0/records'), 404, 'topic_not_found');
    expect((await api.post('/v1/topics', { name: 'phoenix', partitions: 1 })).status).toBe(201);
    const fetched = await api.get('/v1/topics/phoenix/partitions/0/records');
    expect(fetched.body).toMatchObject({ records: [], highWatermark: 0, logStartOffset: 0, nextOffset: 0 });
  });

  it.each([
    [{ name: '', partitions: 1 }],
    [{ name: 'a b', partitions: 1 }],
    [{ name: 'x'.repeat(250), partitions: 1 }],
    [{ name: '..', partitions: 1 }],
    [{ name: 'ok', partitions: 0 }],
    [{ name: 'ok', partitions: 1001 }],
    [{ name: 'ok', partitions: 1.5 }],
    [{ name: 'ok', partitions: '3' }],
    [{ name: 'ok', partitions: 1, retentionMs: 0 }],
    [{ name: 'ok', partitions: 1, retentionMs: -2 }],
    [{ name: 'ok', partitions: 1, extra: true }],
    [{ partitions: 1 }],
    [[]],
    ['not json'],
  ])('refuses bad topic input %j with 400 and creates nothing', async (body) => {
    const res = await stack.api.post('/v1/topics', body);
    expectProblem(res, 400, 'invalid_request');
    const listed = await stack.api.get('/v1/topics');
    expect(listed.body.topics.map((t: any) => t.name)).not.toContain('ok');
  });

  it('refuses a body that is not JSON with 415', async () => {
    const res = await stack.api.request('POST', '/v1/topics', undefined, { 'Content-Type': 'text/plain' });
    expect([400, 415]).toContain(res.status);
    expect(res.body.code).toMatch(/invalid_request|unsupported_media_type/);
  });
});

describe('conventions', () => {
  it('serves /healthz without auth', async () => {
    const res = await apiClient(stack.app, undefined).get('/healthz');
    expect(res).toMatchObject({ status: 200, body: { status: 'ok' } });
  });

  it('answers 401 for a missing or unknown key', async () => {
    expectProblem(await apiClient(stack.app, undefined).get('/v1/topics'), 401, 'unauthorized');
    expectProblem(
      await apiClient(stack.app, 'rnl_aaaaaaaaaaaaaaaa_' + 'x'.repeat(43)).get('/v1/topics'),
      401,
      'unauthorized',
    );
    expectProblem(await apiClient(stack.app, 'garbage').get('/v1/topics'), 401, 'unauthorized');
  });

  it('answers unknown routes with 404 not_found and wrong methods with 405 and Allow', async () => {
    expectProblem(await stack.api.get('/v1/nothing-here'), 404, 'not_found');
    const res = await stack.api.request('PUT', '/v1/topics');
    expectProblem(res, 405, 'method_not_allowed');
    expect(res.headers.get('allow')).toContain('POST');
  });

  it('serves an OpenAPI document describing the routes', async () => {
    const res = await apiClient(stack.app, undefined).get('/openapi.json');
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining([
        '/v1/topics',
        '/v1/topics/{topic}/records',
        '/v1/topics/{topic}/partitions/{partition}/records',
      ]),
    );
  });
});

describe('operator API', () => {
  it('creates a tenant whose key works and sees none of the other tenant’s topics', async () => {
    const operator = apiClient(stack.app, 'test-operator-key-0123456789abcdef');
    const created = await operator.post('/admin/v1/tenants', { name: 'acme' });
    expect(created.status).toBe(201);
    expect(created.body.apiKey).toMatch(/^rnl_/);
    const acme = apiClient(stack.app, created.body.apiKey);
    expect((await acme.get('/v1/topics')).body).toEqual({ topics: [] });
    await stack.api.post('/v1/topics', { name: 'private', partitions: 1 });
    expectProblem(await acme.get('/v1/topics/private'), 404, 'topic_not_found');
    const listed = await operator.get('/admin/v1/tenants');
    expect(listed.body.tenants.map((t: any) => t.name)).toEqual(expect.arrayContaining(['acme', 'tenant-a']));
  });

  it('refuses tenant keys on the operator API with 403 and unknown keys with 401', async () => {
    expectProblem(await stack.api.post('/admin/v1/tenants', { name: 'x' }), 403, 'forbidden');
    expectProblem(await apiClient(stack.app, 'nope').get('/admin/v1/tenants'), 401, 'unauthorized');
  });
});
