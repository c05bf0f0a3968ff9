import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Api, apiClient, expectProblem, type Stack, startStack } from './harness';

/*
 * Browser tokens: read-only, scoped, short-lived, dying with their key. Time is an
 * injected clock, moved by the test: nothing waits for a token to expire.
 */

let now = Date.UTC(2026, 0, 1);
let stack: Stack;
const logLines: string[] = [];
let reader: { apiKey: string; keyId: string };

const mint = (api: Api, permissions: unknown, ttlSeconds?: number) =>
  api.post('/v1/tokens', { permissions, ...(ttlSeconds === undefined ? {} : { ttlSeconds }) });

const consume = (resource: string) => [{ resource, actions: ['consume'] }];

/** The first SSE event of a stream request, then the stream is closed. */
const firstEvent = async (path: string, headers: Record<string, string> = {}) => {
  const res = await stack.app.request(path, { headers: { Accept: 'text/event-stream', ...headers } });
  if (!res.headers.get('content-type')?.startsWith('text/event-stream'))
    return { status: res.status, text: await res.text() };
  const events = (res.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  while (!text.includes('\n\n')) text += (await events.read()).value;
  await events.cancel();
  return { status: res.status, text };
};

beforeAll(async () => {
  stack = await startStack({ clock: () => now, log: (entry) => logLines.push(JSON.stringify(entry)) });
  for (const name of ['feed-eu', 'feed-us', 'orders']) {
    expect((await stack.api.post('/v1/topics', { name, partitions: 1 })).status).toBe(201);
    await stack.api.post(`/v1/topics/${name}/records`, { records: [{ value: `${name}-0` }, { value: `${name}-1` }] });
  }
  const key = await stack.api.post('/v1/keys', { name: 'backend', permissions: consume('topic:feed-*') });
  expect(key.status).toBe(201);
  reader = { apiKey: key.body.apiKey, keyId: key.body.keyId };
});
afterAll(() => stack.close());

describe('minting', () => {
  it('gives a token and its expiry; ttlSeconds defaults to an hour and is bounded, never clamped', async () => {
    const minted = await mint(stack.api, consume('topic:feed-eu'));
    expect(minted.status).toBe(201);
    expect(minted.body.token).toMatch(/^rnt_/);
    expect(minted.body.expiresAt).toBe(now + 3_600_000);
    expectProblem(await mint(stack.api, consume('topic:feed-eu'), 59), 400, 'invalid_request');
    expectProblem(await mint(stack.api, consume('topic:feed-eu'), 86_401), 400, 'invalid_request');
    expect((await mint(stack.api, consume('topic:feed-eu'), 86_400)).status).toBe(201);
  });

  it('refuses actions other than consume, and permissions the key does not have', async () => {
    const backend = apiClient(stack.app, reader.apiKey);
    expectProblem(await mint(stack.api, [{ resource: 'topic:x', actions: ['produce'] }]), 400, 'invalid_request');
    expectProblem(await mint(stack.api, [{ resource: '*', actions: ['consume', 'manage'] }]), 400, 'invalid_request');
    expectProblem(await mint(backend, consume('topic:orders')), 403, 'forbidden');
    expectProblem(await mint(backend, consume('topic:*')), 403, 'forbidden');
    expect((await mint(backend, consume('topic:feed-eu'))).status).toBe(201);
  });
});

describe('a token', () => {
  let token: string;
  let asToken: Api;
  beforeAll(async () => {
    token = (await mint(apiClient(stack.app, reader.apiKey), consume('topic:feed-*'))).body.token;
    asToken = apiClient(stack.app, token);
  });

  it('reads within its scope, as a bearer token and as ?access_token= on a stream', async () => {
    const fetched = await asToken.get('/v1/topics/feed-eu/partitions/0/records');
    expect(fetched.status).toBe(200);
    expect(fetched.body.records.map((r: { value: string }) => r.value)).toEqual(['feed-eu-0', 'feed-eu-1']);
    const listed = await asToken.get('/v1/topics');
    expect(listed.body.topics.map((t: { name: string }) => t.name).sort()).toEqual(['feed-eu', 'feed-us']);
    const streamed = await firstEvent(`/v1/topics/feed-us/partitions/0/records?access_token=${token}`);
    expect(streamed.status).toBe(200);
    expect(streamed.text).toContain('"value":"feed-us-0"');
  });

  it('cannot read outside its scope', async () => {
    expectProblem(await asToken.get('/v1/topics/orders/partitions/0/records'), 403, 'forbidden');
    const streamed = await firstEvent(`/v1/topics/orders/records?access_token=${token}`);
    expect(streamed.status).toBe(403);
  });

  it('cannot produce, manage, join a group, mint tokens or keys', async () => {
    const before = (await stack.api.get('/v1/topics/feed-eu')).body;
    for (const res of [
      await asToken.post('/v1/topics/feed-eu/records', { records: [{ value: 'x' }] }),
      await asToken.post('/v1/topics', { name: 'feed-new', partitions: 1 }),
      await asToken.patch('/v1/topics/feed-eu', { retentionMs: 1000 }),
      await asToken.delete('/v1/topics/feed-eu'),
      await asToken.post('/v1/groups/g/members', { topics: ['feed-eu'] }),
      await asToken.post('/v1/tokens', { permissions: consume('topic:feed-eu') }),
      await asToken.post('/v1/keys', { name: 'k', permissions: consume('topic:feed-eu') }),
      await asToken.get('/v1/keys'),
    ]) {
      expectProblem(res, 403, 'forbidden');
    }
    expect((await stack.api.get('/v1/topics/feed-eu')).body).toEqual(before);
  });

  it('is accepted as ?access_token= on stream requests only, and never as an API key there', async () => {
    expectProblem(
      await apiClient(stack.app, undefined).get(`/v1/topics/feed-eu/partitions/0/records?access_token=${token}`),
      401,
      'unauthorized',
    );
    expectProblem(await apiClient(stack.app, undefined).get(`/v1/topics?access_token=${token}`), 401, 'unauthorized');
    const keyInUrl = await firstEvent(`/v1/topics/feed-eu/records?access_token=${reader.apiKey}`);
    expect(keyInUrl.status).toBe(401);
  });

  it('refuses a token whose payload was edited', async () => {
    const [head, , sig] = token.split('.') as [string, string, string];
    const widened = Buffer.from(JSON.stringify({ e: now * 2, p: consume('*') })).toString('base64url');
    expectProblem(await apiClient(stack.app, `${head}.${widened}.${sig}`).get('/v1/topics'), 401, 'unauthorized');
  });

  it('never reaches a log line', async () => {
    await firstEvent(`/v1/topics/feed-eu/records?access_token=${token}`);
    await firstEvent(`/v1/topics/orders/records?access_token=${token}`);
    await asToken.get('/v1/topics/feed-eu/partitions/0/records');
    expect(logLines.length).toBeGreaterThan(3);
    const secret = token.split('.')[2] as string;
    expect(logLines.filter((line) => line.includes(secret) || line.includes('access_token'))).toEqual([]);
  });
});

describe('a token ends', () => {
  it('when it expires: 401 token_expired, as a bearer token and on a stream', async () => {
    const minted = await mint(stack.api, consume('topic:feed-eu'), 60);
    const token = minted.body.token;
    expect((await apiClient(stack.app, token).get('/v1/topics/feed-eu')).status).toBe(200);
    now += 60_000;
    expectProblem(await apiClient(stack.app, token).get('/v1/topics/feed-eu'), 401, 'token_expired');
    const streamed = await firstEvent(`/v1/topics/feed-eu/records?access_token=${token}`);
    expect(streamed.status).toBe(401);
    expect(JSON.parse(streamed.text).code).toBe('token_expired');
  });

  it('when its key is revoked', async () => {
    const key = await stack.api.post('/v1/keys', { name: 'short-lived', permissions: consume('*') });
    const token = (await mint(apiClient(stack.app, key.body.apiKey), consume('topic:feed-eu'))).body.token;
    expect((await apiClient(stack.app, token).get('/v1/topics/feed-eu')).status).toBe(200);
    expect((await stack.api.delete(`/v1/keys/${key.body.keyId}`)).status).toBe(204);
    expectProblem(await apiClient(stack.app, token).get('/v1/topics/feed-eu'), 401, 'unauthorized');
  });

  it('ends an open stream with an error event when its token expires or its key is revoked', async () => {
    const key = await stack.api.post('/v1/keys', { name: 'page-backend', permissions: consume('*') });
    const backend = apiClient(stack.app, key.body.apiKey);
    const events = async (token: string) => {
      const res = await stack.app.request(`/v1/topics/feed-eu/records?access_token=${token}`, {
        headers: { Accept: 'text/event-stream' },
      });
      const reader = (res.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
      let text = '';
      const next = async () => {
        while (!text.includes('\n\n')) {
          const { value, done } = await reader.read();
          if (done) break;
          text += value;
        }
        const [event, ...rest] = text.split('\n\n');
        text = rest.join('\n\n');
        return event as string;
      };
      return { next, reader };
    };

    // Expiry: the clock moves past it while the stream waits; the next event is the error.
    const short = await events((await mint(backend, consume('topic:feed-eu'), 60)).body.token);
    expect(await short.next()).toContain('event: ping');
    now += 60_000;
    expect(await short.next()).toMatch(/^event: error\ndata: .*"code":"token_expired"/);
    expect((await short.reader.read()).done).toBe(true);

    // Revocation: the stream re-checks its key from storage at least every 5 s of its clock.
    const long = await events((await mint(backend, consume('topic:feed-eu'), 3600)).body.token);
    expect(await long.next()).toContain('event: ping');
    expect((await stack.api.delete(`/v1/keys/${key.body.keyId}`)).status).toBe(204);
    now += 15_000;
    expect(await long.next()).toMatch(/^event: error\ndata: .*"code":"unauthorized"/);
  });
});
