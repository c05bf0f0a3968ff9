import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppDeps, createApp, createServices } from '#shared/app/create-app';
import { LAZY_ROUTES } from '#shared/app/lazy-routes';
import { type Api, apiClient, expectProblem, type Stack, startStack } from './harness';

/*
 * Routes whose code is loaded on their first request (shared/app/lazy-routes.ts): consumer
 * groups and record streams among them. Each case builds a fresh app on the shared stack,
 * so the request under test is that app's first: it must answer as a route loaded at start
 * would (validation, handler, 404/405, authentication), and requests arriving together
 * while the code loads must all be served.
 */

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ deps: { streams: { pingIntervalMs: 60_000 } } });
  expect((await stack.api.post('/v1/topics', { name: 'orders', partitions: 2 })).status).toBe(201);
  expect((await stack.api.post('/v1/topics/orders/records', { records: [{ value: 'a', partition: 0 }] })).status).toBe(
    200,
  );
});
afterAll(async () => {
  await stack?.close();
});

/** A new app over the stack's ports, nothing loaded on first use yet, and a client for the tenant's key. */
const freshApp = (deps: Partial<AppDeps> = {}) => {
  const all = { ...stack.deps, ...deps };
  const app = createApp(all, createServices(all));
  return { app, api: apiClient(app, stack.apiKey) };
};

/** Reads a Server-Sent Events response until `until` appears in it, then closes it. */
const readEvents = async (res: Response, until: string) => {
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = '';
  while (!text.includes(until)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  await reader.cancel();
  return text;
};

const join = (api: Api, group: string) =>
  api.post(`/v1/groups/${group}/members`, { topics: ['orders'], autoOffsetReset: 'earliest' });

describe('consumer groups, loaded on their first request', () => {
  it('registers every group route at start', () => {
    const { app } = freshApp();
    const registered = new Set(app.routes.map((r) => `${r.method} ${r.path}`));
    for (const [method, path] of LAZY_ROUTES.groups) {
      expect(registered).toContain(`${method.toUpperCase()} /v1${path.replace(/{([^}]+)}/g, ':$1')}`);
    }
  });

  it('serves the first requests, arriving together, and the group works as before', async () => {
    const { api } = freshApp();
    const [a, b] = await Promise.all([join(api, 'first'), join(api, 'first')]);
    expect(a.status, JSON.stringify(a.body)).toBe(200);
    expect(b.status, JSON.stringify(b.body)).toBe(200);
    const member = a.body.memberId as string;
    // The members joined one after the other: the later join's generation is the group's.
    const generation = Math.max(a.body.generation, b.body.generation);
    const described = await api.get('/v1/groups/first');
    expect(described.status).toBe(200);
    expect(described.body.members).toHaveLength(2);
    const beat = await api.post(`/v1/groups/first/members/${member}/heartbeat`);
    expect(beat.status, JSON.stringify(beat.body)).toBe(200);
    expect(beat.body.generation).toBe(generation);
  });

  it('answers 405, 404 and 401 before its code is loaded, and bad input with the same 400 problem', async () => {
    const { app, api } = freshApp();
    const wrongMethod = await api.request('PUT', '/v1/groups');
    expectProblem(wrongMethod, 405, 'method_not_allowed');
    expect(wrongMethod.headers.get('allow')).toBe('GET, HEAD');
    expectProblem(await api.get('/v1/groups/a/b/c/d/e'), 404, 'not_found');
    expectProblem(await apiClient(app, undefined).get('/v1/groups'), 401, 'unauthorized');
    expectProblem(await api.post('/v1/groups/g/members', { topics: [] }), 400, 'invalid_request');
    expectProblem(await api.get('/v1/groups/never-joined'), 404, 'group_not_found');
  });
});

describe('record streams, loaded on the first stream', () => {
  it('serves a topic stream as the first request', async () => {
    const { app } = freshApp();
    const res = await app.request('/v1/topics/orders/records?offset=earliest', {
      headers: { Authorization: `Bearer ${stack.apiKey}`, Accept: 'text/event-stream' },
    });
    const text = await readEvents(res, 'event: records');
    expect(text).toContain('"value":"a"');
  });

  it('serves a partition stream of the fetch route as the first request, and a plain fetch does not load it', async () => {
    const { app, api } = freshApp();
    const fetched = await api.get('/v1/topics/orders/partitions/0/records?offset=0');
    expect(fetched.status).toBe(200);
    expect(fetched.body.records).toHaveLength(1);
    const res = await app.request('/v1/topics/orders/partitions/0/records?offset=0', {
      headers: { Authorization: `Bearer ${stack.apiKey}`, Accept: 'text/event-stream' },
    });
    const text = await readEvents(res, 'event: records');
    expect(text).toContain('"nextOffset":1');
  });

  it('answers a topic stream without the stream header 406, and an unknown topic 404, as before', async () => {
    const { api } = freshApp();
    expectProblem(await api.get('/v1/topics/orders/records'), 406, 'not_acceptable');
    expectProblem(
      await api.request('GET', '/v1/topics/missing/records', undefined, { Accept: 'text/event-stream' }),
      404,
      'topic_not_found',
    );
  });

  it('refuses streams where they are served elsewhere (the API behind a buffering front door)', async () => {
    const { api } = freshApp({ streamsElsewhere: true });
    for (const path of ['/v1/topics/orders/records', '/v1/topics/orders/partitions/0/records']) {
      expectProblem(await api.request('GET', path, undefined, { Accept: 'text/event-stream' }), 406, 'not_acceptable');
    }
  });
});
