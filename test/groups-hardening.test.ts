import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUP_LIMITS } from '#shared/constants';
import { apiClient, expectProblem, OPERATOR_KEY, type Stack, startStack } from './harness';

/** Consumer groups under a hostile tenant: a group cannot outgrow its storage item, and topic permissions hold inside a group. */
let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

describe('a group that would outgrow its item', () => {
  it('refuses the join that would pass the limit with a 4xx naming it, and the group keeps working', async () => {
    const tenant = await apiClient(stack.app, OPERATOR_KEY).post('/admin/v1/tenants', { name: 'wide-groups' });
    const api = apiClient(stack.app, tenant.body.apiKey);
    const topics = Array.from({ length: 100 }, (_, i) => `${String(i).padStart(3, '0')}-${'t'.repeat(245)}`);
    for (const name of topics) expect((await api.post('/v1/topics', { name, partitions: 1 })).status).toBe(201);
    const joined: string[] = [];
    let refused: Awaited<ReturnType<typeof api.post>> | undefined;
    for (let i = 0; i < 20 && !refused; i++) {
      const res = await api.post('/v1/groups/huge/members', { topics, sessionTimeoutMs: 300_000 });
      if (res.status === 200) joined.push(res.body.memberId);
      else refused = res;
    }
    expect(refused, 'some join is refused').toBeDefined();
    expectProblem(refused as NonNullable<typeof refused>, 403, 'quota_exceeded');
    expect(refused?.body).toMatchObject({ quota: 'maxGroupStateBytes', limit: GROUP_LIMITS.maxGroupStateBytes });
    expect(joined.length).toBeGreaterThan(5);
    // The members that got in still heartbeat and read; one leaves, and another can join.
    expect((await api.post(`/v1/groups/huge/members/${joined[0]}/heartbeat`)).status).toBe(200);
    expect((await api.delete(`/v1/groups/huge/members/${joined[1]}`)).status).toBe(204);
    const again = await api.post('/v1/groups/huge/members', { topics, sessionTimeoutMs: 300_000 });
    expect(again.status).toBe(200);
    const described = await api.get('/v1/groups/huge');
    expect(described.body.members).toHaveLength(joined.length);
  });
});

describe('topic permissions inside a group', () => {
  it('a key with group:* but no access to a topic neither sees nor heartbeats nor removes its members', async () => {
    const { api } = stack;
    await api.post('/v1/topics', { name: 'secret', partitions: 2 });
    await api.post('/v1/topics', { name: 'open', partitions: 1 });
    const secretMember = await api.post('/v1/groups/shared/members', { topics: ['secret'] });
    const openMember = await api.post('/v1/groups/shared/members', { topics: ['open'] });
    expect(secretMember.status).toBe(200);
    expect(openMember.status).toBe(200);
    const narrow = await api.post('/v1/keys', {
      name: 'narrow',
      permissions: [
        { resource: 'group:*', actions: ['consume'] },
        { resource: 'topic:open', actions: ['consume'] },
      ],
    });
    const key = stack.apiAs(narrow.body.apiKey);

    const described = await key.get('/v1/groups/shared');
    expect(described.status).toBe(200);
    expect(JSON.stringify(described.body)).not.toContain('secret');
    expect(described.body.members.map((m: any) => m.memberId)).toEqual([openMember.body.memberId]);

    const secretId = secretMember.body.memberId;
    expectProblem(await key.post(`/v1/groups/shared/members/${secretId}/heartbeat`), 403, 'forbidden');
    expectProblem(await key.delete(`/v1/groups/shared/members/${secretId}`), 403, 'forbidden');
    // Its own topic's member is fine, and the secret member is still there for a full key.
    expect((await key.post(`/v1/groups/shared/members/${openMember.body.memberId}/heartbeat`)).status).toBe(200);
    const full = await api.get('/v1/groups/shared');
    expect(full.body.members.map((m: any) => m.memberId)).toContain(secretId);
    expect((await api.post(`/v1/groups/shared/members/${secretId}/heartbeat`)).status).toBe(200);
  });
});
