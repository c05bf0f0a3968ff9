import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionKey } from '#shared/ports/log-index';
import { apiClient, expectProblem, OPERATOR_KEY, partitionRef, type Stack, startStack } from './harness';

/**
 * Idle long polls: a tenant holds at most a quota of waiting requests (429 with
 * Retry-After beyond it, other tenants unaffected), and however many requests wait on a
 * partition, the instance re-reads its tail once per round for all of them.
 */
let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ deps: { waitersPerTenant: 3 } });
  expect((await stack.api.post('/v1/topics', { name: 'idle', partitions: 2 })).status).toBe(201);
});
afterAll(() => stack.close());

/** Resolves when the tenant has `n` waiters admitted. */
const waitersAdmitted = (tenantId: string, n: number, on: Stack = stack): Promise<void> => {
  const quota = on.services.waiterQuota;
  const enter = quota.enter.bind(quota);
  return new Promise((resolve) => {
    quota.enter = (id) => {
      const leave = enter(id);
      if (id === tenantId && quota.count(id) >= n) {
        quota.enter = enter;
        resolve();
      }
      return leave;
    };
  });
};

const poll = (api = stack.api, partition = 0, from = 0) =>
  api.get(`/v1/topics/idle/partitions/${partition}/records?offset=${from}&waitMs=20000`);

describe('idle long polls', () => {
  it('refuses a tenant’s long poll beyond its quota with 429 and Retry-After, and not another tenant’s', async () => {
    const ready = waitersAdmitted(stack.tenantId, 3);
    const polls = [poll(stack.api, 0), poll(stack.api, 1), poll(stack.api, 0)];
    await ready;
    const refused = await poll(stack.api, 1);
    expectProblem(refused, 429, 'throttled');
    expect(Number(refused.headers.get('Retry-After'))).toBeGreaterThanOrEqual(1);
    expect(refused.body).toMatchObject({ quota: 'concurrentWaiters', limit: 3 });
    // Another tenant's long polls have their own quota.
    const other = await apiClient(stack.app, OPERATOR_KEY).post('/admin/v1/tenants', { name: 'other' });
    const otherApi = apiClient(stack.app, other.body.apiKey);
    await otherApi.post('/v1/topics', { name: 'idle', partitions: 1 });
    const otherReady = waitersAdmitted(other.body.tenantId, 1);
    const otherPoll = poll(otherApi, 0);
    await otherReady;
    await otherApi.post('/v1/topics/idle/records', { records: [{ value: 'theirs' }] });
    expect((await otherPoll).status).toBe(200);
    // Records arrive: the waiting polls answer, and their places are free again.
    await stack.api.post('/v1/topics/idle/records', { records: [{ value: 'a', partition: 0 }] });
    await stack.api.post('/v1/topics/idle/records', { records: [{ value: 'b', partition: 1 }] });
    const answered = await Promise.all(polls);
    expect(answered.map((r) => r.body.records.length)).toEqual([1, 1, 1]);
    expect(stack.services.waiterQuota.count(stack.tenantId)).toBe(0);
  });

  it('counts open streams with long polls, and gives a stream’s place back when it ends', async () => {
    const stream = () =>
      stack.app.request('/v1/topics/idle/partitions/0/records?offset=earliest', {
        headers: { Authorization: `Bearer ${stack.apiKey}`, Accept: 'text/event-stream' },
      });
    const open = [await stream(), await stream(), await stream()];
    expect(open.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(stack.services.waiterQuota.count(stack.tenantId)).toBe(3);
    const refused = await stream();
    expect(refused.status).toBe(429);
    expect(refused.headers.get('Retry-After')).toBeTruthy();
    expectProblem(await poll(stack.api, 0, 10), 429, 'throttled');
    await open[0]?.body?.cancel();
    expect(stack.services.waiterQuota.count(stack.tenantId)).toBe(2);
    const again = await stream();
    expect(again.status).toBe(200);
    await Promise.all([open[1], open[2], again].map((r) => r?.body?.cancel()));
    expect(stack.services.waiterQuota.count(stack.tenantId)).toBe(0);
  });

  it('re-reads a watched partition once for all its waiters, not once per waiter', async () => {
    const big = await startStack({ deps: { waitersPerTenant: 50 } });
    try {
      const { services, api } = big;
      await api.post('/v1/topics', { name: 'idle', partitions: 1 });
      const ref = await partitionRef(big, 'idle', 0);
      // Every tail read is held until the test lets it go.
      let reads = 0;
      let release!: () => void;
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      let firstRead!: () => void;
      const readBegun = new Promise<void>((resolve) => {
        firstRead = resolve;
      });
      const real = services.log.highWatermark.bind(services.log);
      services.log.highWatermark = async (p) => {
        reads += 1;
        firstRead();
        await released;
        return real(p);
      };
      const ready = waitersAdmitted(big.tenantId, 20, big);
      const polls = Array.from({ length: 20 }, () =>
        api.get('/v1/topics/idle/partitions/0/records?offset=0&waitMs=20000'),
      );
      await ready;
      await readBegun;
      // An append's wake-up: each waiter polling on its own would now read the tail again.
      services.notifier.notify(partitionKey(ref));
      await new Promise((resolve) => setImmediate(resolve));
      expect(reads).toBe(1);
      expect(services.longPoll.watched()).toBe(1);
      await api.post('/v1/topics/idle/records', { records: [{ value: 'for everyone' }] });
      release();
      const answered = await Promise.all(polls);
      expect(answered.map((r) => r.body.records.map((x: any) => x.value))).toEqual(
        Array.from({ length: 20 }, () => ['for everyone']),
      );
      expect(services.longPoll.watched()).toBe(0);
    } finally {
      await big.close();
    }
  });
});
