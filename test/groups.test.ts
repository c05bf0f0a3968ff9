import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '#shared/domain/api-keys';
import type { Permission } from '#shared/domain/permissions';
import { apiClient, expectProblem, nextLongPollWait, OPERATOR_KEY, type Stack, startStack } from './harness';

let stack: Stack;
let now = 1_800_000_000_000;
beforeAll(async () => {
  stack = await startStack({ clock: () => now });
});
afterAll(() => stack.close());

const produce = async (topic: string, partition: number, values: string[]) => {
  const res = await stack.api.post(`/v1/topics/${topic}/records`, {
    records: values.map((value) => ({ value, partition })),
  });
  expect(res.status).toBe(200);
  return res.body.offsets as { partition: number; offset: number }[];
};

const owned = (assignments: { topic: string; partitions: number[] }[]) =>
  assignments.flatMap((a) => a.partitions.map((p) => `${a.topic}/${p}`));

describe('consumer groups', () => {
  it('joins, heartbeats, fetches from the committed offset, commits and leaves', async () => {
    const { api } = stack;
    await api.post('/v1/topics', { name: 'g-orders', partitions: 4 });
    await produce('g-orders', 0, ['a', 'b', 'c']);

    const one = await api.post('/v1/groups/billing/members', { topics: ['g-orders'], autoOffsetReset: 'earliest' });
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ generation: 1, assignments: [{ topic: 'g-orders', partitions: [0, 1, 2, 3] }] });
    const m1 = one.body.memberId as string;

    const two = await api.post('/v1/groups/billing/members', { topics: ['g-orders'], autoOffsetReset: 'earliest' });
    expect(two.body.generation).toBe(2);
    const m2 = two.body.memberId as string;
    expect(owned(two.body.assignments)).toHaveLength(2);

    const beat = await api.post(`/v1/groups/billing/members/${m1}/heartbeat`);
    expect(beat.status).toBe(200);
    expect(beat.body.generation).toBe(2);
    const all = [...owned(beat.body.assignments), ...owned(two.body.assignments)].sort();
    expect(all).toEqual(['g-orders/0', 'g-orders/1', 'g-orders/2', 'g-orders/3']);

    const holder = owned(beat.body.assignments).includes('g-orders/0') ? m1 : m2;
    const other = holder === m1 ? m2 : m1;
    const fetched = await api.get(`/v1/groups/billing/members/${holder}/records`);
    expect(fetched.status).toBe(200);
    expect(fetched.body.generation).toBe(2);
    expect(fetched.body.records.map((r: any) => [r.topic, r.partition, r.offset, r.value])).toEqual([
      ['g-orders', 0, 0, 'a'],
      ['g-orders', 0, 1, 'b'],
      ['g-orders', 0, 2, 'c'],
    ]);
    // Fetching commits nothing: the same records come again.
    expect((await api.get(`/v1/groups/billing/members/${holder}/records`)).body.records).toHaveLength(3);

    expect(
      (
        await api.post('/v1/groups/billing/offsets', {
          memberId: holder,
          generation: 2,
          offsets: [{ topic: 'g-orders', partition: 0, offset: 2, metadata: 'checkpoint' }],
        })
      ).status,
    ).toBe(204);
    const after = await api.get(`/v1/groups/billing/members/${holder}/records`);
    expect(after.body.records.map((r: any) => r.value)).toEqual(['c']);
    expect((await api.get('/v1/groups/billing/offsets?topic=g-orders')).body).toEqual({
      offsets: [{ topic: 'g-orders', partition: 0, offset: 2, metadata: 'checkpoint' }],
    });

    // The other member does not own partition 0 in this generation: it is live, so it is
    // told what it owns and carries on (no re-join, no rebalance).
    const notOwner = await api.post('/v1/groups/billing/offsets', {
      memberId: other,
      generation: 2,
      offsets: [{ topic: 'g-orders', partition: 0, offset: 3 }],
    });
    expectProblem(notOwner, 409, 'rebalance_in_progress');
    const otherOwns = owned((holder === m1 ? two : beat).body.assignments);
    expect(notOwner.body.generation).toBe(2);
    expect(owned(notOwner.body.assignments)).toEqual(otherOwns);
    // Nor may a live member commit for a generation that is not current: it gets the
    // current generation and its assignments in it.
    const stale = await api.post('/v1/groups/billing/offsets', {
      memberId: holder,
      generation: 1,
      offsets: [{ topic: 'g-orders', partition: 0, offset: 3 }],
    });
    expectProblem(stale, 409, 'rebalance_in_progress');
    expect(stale.body.generation).toBe(2);
    expect(owned(stale.body.assignments)).toContain('g-orders/0');
    // Carrying on with those, the same commit lands.
    expect(
      (
        await api.post('/v1/groups/billing/offsets', {
          memberId: holder,
          generation: stale.body.generation,
          offsets: [{ topic: 'g-orders', partition: 0, offset: 2 }],
        })
      ).status,
    ).toBe(204);
    // The generation did not move: nobody re-joined.
    expect((await api.get('/v1/groups/billing')).body.generation).toBe(2);

    const described = await api.get('/v1/groups/billing');
    expect(described.status).toBe(200);
    expect(described.body.generation).toBe(2);
    expect(described.body.members.map((m: any) => m.memberId).sort()).toEqual([m1, m2].sort());
    expect(described.body.members[0]).toMatchObject({ topics: ['g-orders'], lastHeartbeat: now });
    expect(described.body.partitions[0]).toEqual({
      topic: 'g-orders',
      partition: 0,
      committedOffset: 2,
      highWatermark: 3,
      lag: 1,
    });
    expect(described.body.partitions[1]).toMatchObject({ partition: 1, committedOffset: null, lag: null });

    expect((await api.delete(`/v1/groups/billing/members/${other}`)).status).toBe(204);
    const alone = await api.post(`/v1/groups/billing/members/${holder}/heartbeat`);
    expect(alone.body.generation).toBe(3);
    expect(owned(alone.body.assignments)).toHaveLength(4);
    expectProblem(await api.post(`/v1/groups/billing/members/${other}/heartbeat`), 409, 'fenced');
    // Leaving twice is fine (a retried leave).
    expect((await api.delete(`/v1/groups/billing/members/${other}`)).status).toBe(204);

    expect((await api.get('/v1/groups')).body.groups).toContainEqual({ group: 'billing', generation: 3, members: 1 });
  });

  it('removes a silent member on the next call, fences its heartbeat and its commits', async () => {
    const { api } = stack;
    await api.post('/v1/topics', { name: 'g-zombie', partitions: 2 });
    await produce('g-zombie', 0, ['x', 'y']);
    await produce('g-zombie', 1, ['z']);
    const zombie = (await api.post('/v1/groups/zg/members', { topics: ['g-zombie'], sessionTimeoutMs: 10_000 })).body;
    now += 5_000;
    const live = (await api.post('/v1/groups/zg/members', { topics: ['g-zombie'], sessionTimeoutMs: 30_000 })).body;
    expect(live.generation).toBe(2);
    // The zombie's session runs out (its last heartbeat was 10 s + 1 ms ago).
    now += 5_001;
    const beat = await api.post(`/v1/groups/zg/members/${live.memberId}/heartbeat`);
    expect(beat.body.generation).toBe(3);
    expect(owned(beat.body.assignments)).toEqual(['g-zombie/0', 'g-zombie/1']);
    expectProblem(
      await api.post('/v1/groups/zg/offsets', {
        memberId: zombie.memberId,
        generation: 2,
        offsets: [{ topic: 'g-zombie', partition: 0, offset: 2 }],
      }),
      409,
      'fenced',
    );
    expectProblem(await api.post(`/v1/groups/zg/members/${zombie.memberId}/heartbeat`), 409, 'fenced');
    expectProblem(await api.get(`/v1/groups/zg/members/${zombie.memberId}/records`), 409, 'fenced');
    expect((await api.get('/v1/groups/zg/offsets')).body.offsets).toEqual([]);
  });

  it('takes standalone commits only while the group has no live members', async () => {
    const { api } = stack;
    await api.post('/v1/topics', { name: 'g-solo', partitions: 1 });
    await produce('g-solo', 0, ['1', '2', '3']);
    const commit = (offset: number) =>
      api.post('/v1/groups/solo/offsets', { offsets: [{ topic: 'g-solo', partition: 0, offset }] });
    expect((await commit(1)).status).toBe(204);
    expect((await api.get('/v1/groups/solo')).body.partitions[0]).toMatchObject({ committedOffset: 1, lag: 2 });
    const member = (await api.post('/v1/groups/solo/members', { topics: ['g-solo'] })).body;
    expectProblem(await commit(2), 409, 'fenced');
    // The member continues from the standalone commit.
    expect(
      (await api.get(`/v1/groups/solo/members/${member.memberId}/records`)).body.records.map((r: any) => r.value),
    ).toEqual(['2', '3']);
    await api.delete(`/v1/groups/solo/members/${member.memberId}`);
    expect((await commit(3)).status).toBe(204);
    expect((await api.get('/v1/groups/solo/offsets')).body.offsets[0]).toMatchObject({ offset: 3, metadata: null });
  });

  it('starts at the high watermark with autoOffsetReset latest, pinned until the first commit', async () => {
    const { api } = stack;
    await api.post('/v1/topics', { name: 'g-latest', partitions: 1 });
    await produce('g-latest', 0, ['old']);
    const m = (await api.post('/v1/groups/late/members', { topics: ['g-latest'] })).body.memberId;
    expect((await api.get(`/v1/groups/late/members/${m}/records`)).body.records).toEqual([]);
    await produce('g-latest', 0, ['new1', 'new2']);
    const got = await api.get(`/v1/groups/late/members/${m}/records`);
    expect(got.body.records.map((r: any) => r.value)).toEqual(['new1', 'new2']);
  });

  it('rebalances when a subscribed topic grows, on the next member fetch', async () => {
    const { api } = stack;
    await api.post('/v1/topics', { name: 'g-grow', partitions: 2 });
    const a = (await api.post('/v1/groups/grow/members', { topics: ['g-grow'] })).body;
    const b = (await api.post('/v1/groups/grow/members', { topics: ['g-grow'] })).body;
    expect(b.generation).toBe(2);
    expect((await api.patch('/v1/topics/g-grow', { partitions: 6 })).status).toBe(200);
    const fetched = await api.get(`/v1/groups/grow/members/${a.memberId}/records`);
    expect(fetched.body.generation).toBe(3);
    const beats = await Promise.all(
      [a, b].map(async (m) => (await api.post(`/v1/groups/grow/members/${m.memberId}/heartbeat`)).body),
    );
    expect(beats.map((x) => owned(x.assignments).length)).toEqual([3, 3]);
    expect(beats.flatMap((x) => owned(x.assignments)).sort()).toEqual(
      Array.from({ length: 6 }, (_, p) => `g-grow/${p}`).sort(),
    );
  });

  it('long-polls across the member’s partitions with waitMs', async () => {
    const { api } = stack;
    await api.post('/v1/topics', { name: 'g-poll', partitions: 3 });
    const m = (await api.post('/v1/groups/poll/members', { topics: ['g-poll'] })).body.memberId;
    expect((await api.get(`/v1/groups/poll/members/${m}/records`)).body.records).toEqual([]);
    const began = nextLongPollWait(stack);
    const pending = api.get(`/v1/groups/poll/members/${m}/records?waitMs=5000`);
    // The server waits instead of answering at once; the record is produced while it does.
    expect(await Promise.race([began.then(() => 'waiting'), pending.then(() => 'answered')])).toBe('waiting');
    await produce('g-poll', 2, ['wake']);
    const res = await pending;
    expect(res.body.records.map((r: any) => [r.partition, r.value])).toEqual([[2, 'wake']]);
  });

  it('refuses commits beyond the high watermark and bad input, and changes nothing', async () => {
    const { api } = stack;
    await api.post('/v1/topics', { name: 'g-bad', partitions: 1 });
    await produce('g-bad', 0, ['1']);
    const res = await api.post('/v1/groups/bad/offsets', { offsets: [{ topic: 'g-bad', partition: 0, offset: 2 }] });
    expectProblem(res, 416, 'offset_out_of_range');
    expect(res.body.highWatermark).toBe(1);
    expectProblem(
      await api.post('/v1/groups/bad/offsets', { offsets: [{ topic: 'g-bad', partition: 5, offset: 0 }] }),
      404,
      'partition_not_found',
    );
    expectProblem(
      await api.post('/v1/groups/bad/offsets', { offsets: [{ topic: 'nope', partition: 0, offset: 0 }] }),
      404,
      'topic_not_found',
    );
    for (const body of [
      { offsets: [] },
      { offsets: [{ topic: 'g-bad', partition: 0, offset: -1 }] },
      { offsets: [{ topic: 'g-bad', partition: 0, offset: 1.5 }] },
      { memberId: 'x', offsets: [{ topic: 'g-bad', partition: 0, offset: 0 }] },
      {
        offsets: [
          { topic: 'g-bad', partition: 0, offset: 0 },
          { topic: 'g-bad', partition: 0, offset: 1 },
        ],
      },
      'nope',
    ]) {
      expectProblem(await api.post('/v1/groups/bad/offsets', body), 400, 'invalid_request');
    }
    for (const body of [
      { topics: [] },
      { topics: ['g-bad'], sessionTimeoutMs: 9_999 },
      { topics: ['g-bad'], sessionTimeoutMs: 300_001 },
      { topics: ['g-bad'], autoOffsetReset: 'none' },
      { topics: ['a b'] },
      { topics: ['g-bad'], extra: 1 },
    ]) {
      expectProblem(await api.post('/v1/groups/bad/members', body), 400, 'invalid_request');
    }
    expectProblem(await api.post('/v1/groups/bad/members', { topics: ['missing'] }), 404, 'topic_not_found');
    expectProblem(await api.get('/v1/groups/bad/members/m1/records?waitMs=20001'), 400, 'invalid_request');
    // Nothing of the above created the group.
    expectProblem(await api.get('/v1/groups/bad'), 404, 'group_not_found');
    expectProblem(await api.post('/v1/groups/bad/members/m1/heartbeat'), 404, 'group_not_found');
  });

  it('answers odd input on every group route with a 4xx problem, never a 5xx', async () => {
    const { api } = stack;
    await api.post('/v1/topics', { name: 'g-odd', partitions: 1 });
    const member = (await api.post('/v1/groups/odd/members', { topics: ['g-odd'] })).body.memberId;
    const bodies = [undefined, 'x', '{', [], {}, null, 1, { topics: 'g-odd' }, { offsets: {} }, { topics: [null] }];
    const paths = [
      ['POST', '/v1/groups/odd/members'],
      ['POST', '/v1/groups/odd/members/no%20such/heartbeat'],
      ['POST', '/v1/groups/odd/offsets'],
      ['GET', '/v1/groups/odd/offsets?topic=a%20b'],
      ['GET', `/v1/groups/odd/members/${member}/records?maxRecords=0`],
      ['GET', `/v1/groups/odd/members/${member}/records?encoding=hex`],
      ['GET', '/v1/groups/..'],
      ['DELETE', '/v1/groups/odd/members/%E2%9C%93'],
      ['PUT', '/v1/groups/odd'],
    ] as const;
    for (const [method, path] of paths) {
      for (const body of method === 'POST' ? bodies : [undefined]) {
        const res = await api.request(
          method,
          path,
          body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
          { 'Content-Type': 'application/json' },
        );
        expect(
          res.status,
          `${method} ${path} ${JSON.stringify(body)}: ${JSON.stringify(res.body)}`,
        ).toBeGreaterThanOrEqual(400);
        expect(res.status, `${method} ${path} ${JSON.stringify(body)}`).toBeLessThan(500);
        expect(typeof res.body.code).toBe('string');
      }
    }
    // The member is still there, untouched.
    expect((await api.post(`/v1/groups/odd/members/${member}/heartbeat`)).body.generation).toBe(1);
    const doc = await api.get('/openapi.json');
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/v1/groups',
        '/v1/groups/{group}',
        '/v1/groups/{group}/members',
        '/v1/groups/{group}/members/{memberId}/heartbeat',
        '/v1/groups/{group}/members/{memberId}/records',
        '/v1/groups/{group}/offsets',
      ]),
    );
  });

  it('needs consume on the group and on every topic, and hides groups of other tenants', async () => {
    const { api, app } = stack;
    await api.post('/v1/topics', { name: 'g-secure', partitions: 1 });
    const member = (await api.post('/v1/groups/secure/members', { topics: ['g-secure'] })).body.memberId;

    const key = async (permissions: Permission[]) => {
      const generated = generateApiKey();
      await stack.deps.metadata.createApiKey({
        keyId: generated.keyId,
        tenantId: stack.tenantId,
        name: 'limited',
        secretHash: generated.secretHash,
        permissions,
        createdAt: now,
      });
      return apiClient(app, generated.apiKey);
    };
    const topicOnly = await key([{ resource: 'topic:*', actions: ['consume'] }]);
    expectProblem(await topicOnly.post('/v1/groups/secure/members', { topics: ['g-secure'] }), 403, 'forbidden');
    expectProblem(await topicOnly.get('/v1/groups/secure'), 403, 'forbidden');
    expect((await topicOnly.get('/v1/groups')).body.groups).toEqual([]);
    const groupOnly = await key([{ resource: 'group:secure', actions: ['consume'] }]);
    expectProblem(await groupOnly.post('/v1/groups/secure/members', { topics: ['g-secure'] }), 403, 'forbidden');
    expectProblem(await groupOnly.get(`/v1/groups/secure/members/${member}/records`), 403, 'forbidden');
    expect((await groupOnly.get('/v1/groups')).body.groups.map((g: any) => g.group)).toEqual(['secure']);
    const both = await key([{ resource: '*', actions: ['consume'] }]);
    expect((await both.get(`/v1/groups/secure/members/${member}/records`)).status).toBe(200);

    const operator = apiClient(app, OPERATOR_KEY);
    const other = apiClient(app, (await operator.post('/admin/v1/tenants', { name: 'group-other' })).body.apiKey);
    expectProblem(await other.get('/v1/groups/secure'), 404, 'group_not_found');
    expectProblem(await other.post(`/v1/groups/secure/members/${member}/heartbeat`), 404, 'group_not_found');
    expectProblem(await other.get('/v1/groups/secure/offsets'), 404, 'group_not_found');
    expect((await other.get('/v1/groups')).body).toEqual({ groups: [] });
  });
});
