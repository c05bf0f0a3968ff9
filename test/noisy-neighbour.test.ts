import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Api, apiClient, OPERATOR_KEY, type Stack, startStack, storedRecords } from './harness';

let stack: Stack;
// The clock stands still: every request falls in the same one-second quota window, so
// how many windows the run spans does not depend on the machine's speed.
const now = Date.now();
beforeAll(async () => {
  stack = await startStack({ clock: () => now });
});
afterAll(() => stack.close());

const tenant = async (name: string, quotas?: Record<string, number>) => {
  const res = await apiClient(stack.app, OPERATOR_KEY).post('/admin/v1/tenants', quotas ? { name, quotas } : { name });
  const api = apiClient(stack.app, res.body.apiKey);
  expect((await api.post('/v1/topics', { name: 'events', partitions: 2 })).status).toBe(201);
  return { api, tenantId: res.body.tenantId as string };
};

/** Sends produce requests from `loops` concurrent loops, each `perLoop` times or while `more()`; counts answers and acknowledged records. */
const hammer = async (
  { api, tenantId }: { api: Api; tenantId: string },
  loops: number,
  valueBytes: number,
  perLoop: number,
  more: () => boolean = () => true,
) => {
  const statuses = new Map<number, number>();
  let acknowledged = 0;
  let retryAfterMissing = 0;
  await Promise.all(
    Array.from({ length: loops }, async (_, loop) => {
      for (let i = 0; i < perLoop && more(); i++) {
        const res = await api.post('/v1/topics/events/records', {
          records: [{ key: `${loop}-${i}`, value: 'v'.repeat(valueBytes) }, { value: 'w'.repeat(valueBytes) }],
        });
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status === 200) acknowledged += res.body.offsets.length;
        if (res.status === 429 && !res.headers.get('retry-after')) retryAfterMissing++;
        // A request refused on the instance's own knowledge makes no I/O: yield to the event
        // loop, or these loops would starve the quiet tenant's requests forever.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }),
  );
  const stored = await storedRecords(stack, tenantId, 'events');
  return { statuses: Object.fromEntries(statuses), acknowledged, stored, retryAfterMissing };
};

describe('noisy neighbour', () => {
  it('a tenant far over its produce rate does not raise another tenant’s error rate, and its throttled requests write nothing', async () => {
    const noisy = await tenant('noisy', { produceBytesPerSec: 1024 });
    const quiet = await tenant('quiet');
    // The noisy tenant keeps going for as long as the quiet one works.
    let quietDone = false;
    const quietRun = hammer(quiet, 2, 100, 10).finally(() => {
      quietDone = true;
    });
    const [n, q] = await Promise.all([hammer(noisy, 8, 2000, Number.POSITIVE_INFINITY, () => !quietDone), quietRun]);
    const noisyRequests = Object.values(n.statuses).reduce((x, y) => x + y, 0);
    const quietRequests = Object.values(q.statuses).reduce((x, y) => x + y, 0);
    console.log(
      `noisy neighbour: noisy tenant ${noisyRequests} requests ${JSON.stringify(n.statuses)}, ` +
        `records acknowledged ${n.acknowledged}, stored ${n.stored} (wrongly written ${n.stored - n.acknowledged}); ` +
        `quiet tenant ${quietRequests} requests ${JSON.stringify(q.statuses)}`,
    );
    // The quiet tenant: every request succeeded.
    expect(q.statuses).toEqual({ 200: quietRequests });
    expect(quietRequests).toBe(20);
    // The noisy tenant was throttled, always with Retry-After, and nothing throttled was stored.
    expect(n.statuses[429] ?? 0).toBeGreaterThan(noisyRequests / 2);
    expect(Object.keys(n.statuses).sort()).toEqual(['200', '429']);
    expect(n.retryAfterMissing).toBe(0);
    expect(n.stored).toBe(n.acknowledged);
    expect(q.stored).toBe(q.acknowledged);
  });
});
