import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_EXACTLY_ONCE_TIMING } from '#shared/constants';
import { type CrashPoint, FaultInjector } from './faults/fault-injector';
import type { Stack } from './harness';
import { startStack } from './harness';

// The production lease; the test moves its clock past it instead of waiting (the clock
// stands still otherwise, so "while the lease lasts" holds however slow the machine is).
const timing = DEFAULT_EXACTLY_ONCE_TIMING;
let now = Date.now();
let stack: Stack;
let faults: FaultInjector;
beforeAll(async () => {
  faults = new FaultInjector({ seed: 7, rates: {} });
  stack = await startStack({ clock: () => now, exactlyOnce: { timing }, attach: (clients) => faults.attach(clients) });
  await stack.api.post('/v1/topics', { name: 'orders', partitions: 3 });
});
afterAll(() => stack.close());

const produce = (body: unknown, key?: string) =>
  stack.api.request('POST', '/v1/topics/orders/records', body, key === undefined ? {} : { 'Idempotency-Key': key });
const highWatermarks = async () =>
  ((await stack.api.get('/v1/topics/orders')).body.partitionStates as { highWatermark: number }[]).map(
    (s) => s.highWatermark,
  );
/** Runs a request that dies at `crashAfter`: 'crashed' once the fault fired, else the request's answer. */
const crashing = <T>(crashAfter: CrashPoint, request: () => Promise<T>) => {
  const crashed = faults.crashed.then(() => 'crashed' as const);
  return Promise.race([crashed, faults.runRequest({ crashAfter }, request)]);
};

describe('Idempotency-Key', () => {
  it('answers a retry with the first offsets and appends nothing', async () => {
    const body = { records: [{ value: 'a' }, { key: 'k', value: 'b' }, { value: 'c', partition: 2 }] };
    const first = await produce(body, 'order-1');
    expect(first.status).toBe(200);
    const before = await highWatermarks();
    const again = await produce(body, 'order-1');
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(await highWatermarks()).toEqual(before);
    // Same body, another key: a new request.
    const other = await produce(body, 'order-2');
    expect(other.status).toBe(200);
    const sum = (hs: number[]) => hs.reduce((a, b) => a + b, 0);
    expect(sum(await highWatermarks())).toBe(sum(before) + 3);
  });

  it('refuses the same key with another body (422) and bad keys (400), changing nothing', async () => {
    await produce({ records: [{ value: 'x' }] }, 'reuse');
    const before = await highWatermarks();
    const reused = await produce({ records: [{ value: 'y' }] }, 'reuse');
    expect(reused.status).toBe(422);
    expect(reused.body.code).toBe('idempotency_key_reused');
    for (const key of ['', 'x'.repeat(256), 'tab\there', 'é']) {
      const res = await produce({ records: [{ value: 'y' }] }, key);
      expect(res.status).toBe(400);
    }
    const both = await produce({ records: [{ value: 'y' }], producerId: 'p', sequence: 0 }, 'k');
    expect(both.status).toBe(400);
    expect(await highWatermarks()).toEqual(before);
  });

  it('scopes keys to the tenant', async () => {
    const other = await stack.services.tenants.create('tenant-b');
    const api = stack.apiAs(other.apiKey);
    await api.post('/v1/topics', { name: 'orders', partitions: 3 });
    const body = { records: [{ value: 'a', partition: 0 }] };
    const mine = await produce(body, 'shared-key');
    const theirs = await api.request('POST', '/v1/topics/orders/records', body, { 'Idempotency-Key': 'shared-key' });
    expect(theirs.status).toBe(200);
    expect(theirs.body.offsets[0].offset).toBe(0);
    expect(mine.status).toBe(200);
  });

  it('recovers a request whose writer died between partition commits: no duplicate, no loss', async () => {
    const body = { records: [0, 1, 2].map((p) => ({ value: `crash-${p}`, partition: p })) };
    const before = await highWatermarks();
    // The writer dies right after its first index write lands.
    const crashed = await crashing({ operation: 'PutItem', table: 'log', count: 1 }, () => produce(body, 'crash-1'));
    expect(crashed).toBe('crashed');
    const partial = await highWatermarks();
    expect(partial.reduce((n, h, i) => n + h - (before[i] as number), 0)).toBeGreaterThanOrEqual(1);
    // While the dead writer's lease lasts, a retry is told to come back.
    const early = await produce(body, 'crash-1');
    expect(early.status).toBe(409);
    expect(early.body.code).toBe('idempotency_in_progress');
    expect(Number(early.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    now += timing.leaseMs; // the lease is over
    const recovered = await produce(body, 'crash-1');
    expect(recovered.status).toBe(200);
    expect(await highWatermarks()).toEqual(before.map((h) => h + 1));
    expect(recovered.body.offsets.map((o: { offset: number }) => o.offset)).toEqual(before);
    const replay = await produce(body, 'crash-1');
    expect(replay.body).toEqual(recovered.body);
    for (const p of [0, 1, 2]) {
      const read = await stack.api.get(`/v1/topics/orders/partitions/${p}/records?offset=${before[p]}`);
      expect(read.body.records.map((r: { value: string }) => r.value)).toEqual([`crash-${p}`]);
    }
  });

  it('answers a retry whose first attempt died after committing and before answering', async () => {
    const body = { records: [{ value: 'late', partition: 1 }] };
    const before = await highWatermarks();
    // The writer dies right after its claim is marked done (the update that sets `state`).
    const completion = (input: Record<string, unknown>) =>
      Object.values((input.ExpressionAttributeNames ?? {}) as Record<string, string>).includes('state');
    const crashed = await crashing({ operation: 'UpdateItem', table: 'metadata', match: completion, count: 1 }, () =>
      produce(body, 'crash-2'),
    );
    expect(crashed).toBe('crashed');
    expect((await highWatermarks())[1]).toBe((before[1] as number) + 1); // it had committed
    const retried = await produce(body, 'crash-2');
    expect(retried.status).toBe(200);
    expect(retried.body.offsets[0].offset).toBe(before[1]);
    expect((await highWatermarks())[1]).toBe((before[1] as number) + 1);
  });
});

describe('producerId + sequence', () => {
  const send = (sequence: number, value = `s${sequence}`) =>
    produce({ records: [{ value, partition: 0 }], producerId: 'p1', sequence });

  it('appends in sequence, replays the last 5, refuses gaps and older sequences', async () => {
    const first = await send(0);
    expect(first.status).toBe(200);
    const gap = await send(2);
    expect(gap.status).toBe(409);
    expect(gap.body).toMatchObject({ code: 'out_of_order_sequence', expectedSequence: 1 });
    const offsets: number[] = [first.body.offsets[0].offset];
    for (let s = 1; s <= 7; s++) offsets.push((await send(s)).body.offsets[0].offset);
    expect(offsets).toEqual(offsets.map((_, i) => (offsets[0] as number) + i));
    const before = await highWatermarks();
    for (let s = 3; s <= 7; s++) expect((await send(s)).body.offsets[0].offset).toBe(offsets[s]);
    const old = await send(2);
    expect(old.status).toBe(409);
    expect(old.body.code).toBe('duplicate_sequence');
    const changed = await send(7, 'another value');
    expect(changed.status).toBe(422);
    expect(await highWatermarks()).toEqual(before);
    const fresh = await produce({ records: [{ value: 'x' }], producerId: 'p-new', sequence: 3 });
    expect(fresh.body).toMatchObject({ code: 'out_of_order_sequence', expectedSequence: 0 });
  });
});

describe('expiry (24 hours, without TTL)', () => {
  it('forgets a key and a producer a day after their last write', async () => {
    let clock = Date.now();
    const local = await startStack({ clock: () => clock });
    try {
      await local.api.post('/v1/topics', { name: 't', partitions: 1 });
      const post = (body: unknown, headers: Record<string, string> = {}) =>
        local.api.request('POST', '/v1/topics/t/records', body, headers);
      expect((await post({ records: [{ value: 'a' }] }, { 'Idempotency-Key': 'k' })).status).toBe(200);
      expect((await post({ records: [{ value: 'a' }], producerId: 'p', sequence: 0 })).status).toBe(200);
      clock += 24 * 3600 * 1000 - 1000;
      expect((await post({ records: [{ value: 'b' }] }, { 'Idempotency-Key': 'k' })).status).toBe(422);
      expect((await post({ records: [{ value: 'a' }], producerId: 'p', sequence: 0 })).body.offsets[0].offset).toBe(1);
      clock += 2000;
      const reusedAfterExpiry = await post({ records: [{ value: 'b' }] }, { 'Idempotency-Key': 'k' });
      expect(reusedAfterExpiry.status).toBe(200);
      expect(reusedAfterExpiry.body.offsets[0].offset).toBe(2);
      const resumed = await post({ records: [{ value: 'c' }], producerId: 'p', sequence: 1 });
      expect(resumed.body).toMatchObject({ code: 'out_of_order_sequence', expectedSequence: 0 });
    } finally {
      await local.close();
    }
  });
});
