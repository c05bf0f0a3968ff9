import { describe, expect, it } from 'vitest';
import { commitRefusal, emptyGroup, expiredMembers, type GroupState, type Member, rebalance } from './membership';

const member = (memberId: string, topics = ['t'], sessionTimeoutMs = 10_000): Member => ({
  memberId,
  topics,
  sessionTimeoutMs,
  autoOffsetReset: 'latest',
  joinedAt: 0,
  assignments: {},
});

const topics = { t: { topicId: 'id-t', partitions: 4 } };

const joinAll = (ids: string[], now = 0): GroupState => {
  let state = emptyGroup('g', 0);
  for (const id of ids) state = rebalance(state, { join: member(id), topics, now })?.next as GroupState;
  return state;
};

describe('membership', () => {
  it('bumps version and generation on every join and leave', () => {
    const state = joinAll(['a', 'b']);
    expect(state).toMatchObject({ version: 2, generation: 2 });
    expect(state.deadlines).toEqual({ a: 10_000, b: 10_000 });
    const left = rebalance(state, { leave: 'a', topics, now: 1 })?.next;
    expect(left).toMatchObject({ version: 3, generation: 3 });
    expect(left?.members.b?.assignments).toEqual({ t: [0, 1, 2, 3] });
    expect(left?.deadlines).toEqual({ b: 10_000 });
  });

  it('changes nothing when nothing changed, and re-assigns when a topic grows', () => {
    const state = joinAll(['a', 'b']);
    expect(rebalance(state, { topics, now: 5 })).toBeUndefined();
    expect(rebalance(state, { leave: 'nobody', topics, now: 5 })).toBeUndefined();
    const grown = rebalance(state, { topics: { t: { topicId: 'id-t', partitions: 6 } }, now: 5 })?.next;
    expect(grown?.generation).toBe(3);
    expect(Object.values(grown?.members ?? {}).map((m) => m.assignments.t?.length)).toEqual([3, 3]);
  });

  it('removes members whose deadline passed (strictly), and reports them for the write condition', () => {
    const state = joinAll(['a', 'b']);
    expect(expiredMembers(state, 10_000)).toEqual([]);
    expect(expiredMembers(state, 10_001)).toEqual(['a', 'b']);
    const withC = rebalance(
      { ...state, deadlines: { a: 10_000, b: 20_000 } },
      { join: member('c'), topics, now: 15_000 },
    );
    expect(withC?.expired).toEqual(['a']);
    expect(Object.keys(withC?.next.members ?? {}).sort()).toEqual(['b', 'c']);
  });

  it('drops ownership of a recreated topic’s old incarnation', () => {
    const state = joinAll(['a']);
    const recreated = rebalance(state, { join: member('b'), topics: { t: { topicId: 'new', partitions: 2 } }, now: 1 });
    expect(recreated?.next.topics).toEqual({ t: { topicId: 'new', partitions: 2 } });
    const counts = Object.values(recreated?.next.members ?? {}).map((m) => m.assignments.t ?? []);
    expect(counts.flat().sort()).toEqual([0, 1]);
  });

  it('refuses commits of dead members, stale generations and partitions owned by others', () => {
    const state = joinAll(['a', 'b']);
    const aOwns = state.members.a?.assignments.t?.[0] as number;
    const bOwns = state.members.b?.assignments.t?.[0] as number;
    const ok = { memberId: 'a', generation: 2, topic: 't', partition: aOwns };
    expect(commitRefusal(state, ok, 1)).toBeUndefined();
    expect(commitRefusal(state, { ...ok, partition: bOwns }, 1)).toMatchObject({
      kind: 'stale',
      detail: expect.stringMatching(/does not own/),
    });
    expect(commitRefusal(state, { ...ok, generation: 1 }, 1)).toMatchObject({
      kind: 'stale',
      detail: expect.stringMatching(/not the group's current generation/),
    });
    expect(commitRefusal(state, { ...ok, memberId: 'zz' }, 1)).toMatchObject({ kind: 'not_live' });
    expect(commitRefusal(state, ok, 10_001)).toMatchObject({ kind: 'not_live' });
  });
});
