import { describe, expect, it } from 'vitest';
import { mulberry32 } from '#shared/domain/seeded-random';
import { assignPartitions, partitionCount, type Subscriber, type TopicPartitions } from './assignment';

const rng = mulberry32;

const owners = (assignment: Record<string, TopicPartitions>) => {
  const byPartition = new Map<string, string[]>();
  for (const [memberId, topics] of Object.entries(assignment)) {
    for (const [topic, partitions] of Object.entries(topics)) {
      for (const p of partitions) {
        const key = `${topic}/${p}`;
        byPartition.set(key, [...(byPartition.get(key) ?? []), memberId]);
      }
    }
  }
  return byPartition;
};

const checkComplete = (
  members: readonly Subscriber[],
  counts: Record<string, number>,
  assignment: Record<string, TopicPartitions>,
) => {
  const byPartition = owners(assignment);
  const subscribed = new Set(members.flatMap((m) => m.topics));
  const problems: string[] = [];
  let expected = 0;
  for (const topic of subscribed) {
    for (let p = 0; p < (counts[topic] ?? 0); p++) {
      expected++;
      const who = byPartition.get(`${topic}/${p}`) ?? [];
      if (who.length !== 1) problems.push(`${topic}/${p} has owners [${who.join(', ')}]`);
      const member = members.find((m) => m.memberId === who[0]);
      if (!member?.topics.includes(topic)) problems.push(`owner of ${topic}/${p} does not subscribe to ${topic}`);
    }
  }
  if (byPartition.size !== expected) problems.push(`${byPartition.size} partitions owned, ${expected} exist`);
  expect(problems).toEqual([]);
  expect(Object.keys(assignment).sort()).toEqual(members.map((m) => m.memberId).sort());
};

/** Moves: partitions a surviving member owned before and another member owns now. */
const movedPartitions = (before: Record<string, TopicPartitions>, after: Record<string, TopicPartitions>) => {
  const afterOwners = owners(after);
  let moved = 0;
  for (const [memberId, topics] of Object.entries(before)) {
    if (!(memberId in after)) continue;
    for (const [topic, partitions] of Object.entries(topics)) {
      for (const p of partitions) if (afterOwners.get(`${topic}/${p}`)?.[0] !== memberId) moved++;
    }
  }
  return moved;
};

/** The fewest moves any balanced assignment of `members` needs: the largest previous holders get the extra slots. */
const minimalMoves = (before: Record<string, TopicPartitions>, members: string[], total: number) => {
  if (members.length === 0) return 0;
  const floor = Math.floor(total / members.length);
  const extra = total % members.length;
  const held = members.map((id) => partitionCount(before[id] ?? {})).sort((a, b) => b - a);
  return held.reduce((n, c, i) => n + Math.max(0, c - (i < extra ? floor + 1 : floor)), 0);
};

describe('assignPartitions', () => {
  it('spreads partitions evenly over members with the same subscription', () => {
    const members = ['a', 'b', 'c'].map((memberId) => ({ memberId, topics: ['t'] }));
    const result = assignPartitions({ members, partitionCounts: { t: 8 }, previous: {} });
    checkComplete(members, { t: 8 }, result);
    expect(Object.values(result).map(partitionCount).sort()).toEqual([2, 3, 3]);
  });

  it('keeps survivors’ partitions when a member leaves and hands out only the orphans', () => {
    const previous = { a: { t: [0, 1] }, b: { t: [2, 3] }, c: { t: [4, 5] } };
    const members = [
      { memberId: 'a', topics: ['t'] },
      { memberId: 'c', topics: ['t'] },
    ];
    const result = assignPartitions({ members, partitionCounts: { t: 6 }, previous });
    expect(result.a?.t).toEqual(expect.arrayContaining([0, 1]));
    expect(result.c?.t).toEqual(expect.arrayContaining([4, 5]));
    expect(partitionCount(result.a ?? {}) + partitionCount(result.c ?? {})).toBe(6);
    expect(movedPartitions(previous, result)).toBe(0);
  });

  it('moves only what a joining member needs', () => {
    const previous = { a: { t: [0, 1, 2] }, b: { t: [3, 4, 5] } };
    const members = ['a', 'b', 'c'].map((memberId) => ({ memberId, topics: ['t'] }));
    const result = assignPartitions({ members, partitionCounts: { t: 6 }, previous });
    expect(Object.values(result).map(partitionCount)).toEqual([2, 2, 2]);
    expect(movedPartitions(previous, result)).toBe(2);
  });

  it('gives nothing to members whose topics have no partitions, and drops partitions that no longer exist', () => {
    const members = [
      { memberId: 'a', topics: ['t'] },
      { memberId: 'b', topics: ['gone'] },
    ];
    const result = assignPartitions({
      members,
      partitionCounts: { t: 2 },
      previous: { a: { t: [5] }, b: { gone: [0] } },
    });
    expect(result).toEqual({ a: { t: [0, 1] }, b: {} });
  });

  it('balances over all topics a member reads, not topic by topic', () => {
    const members = ['a', 'b'].map((memberId) => ({ memberId, topics: ['x', 'y'] }));
    const result = assignPartitions({ members, partitionCounts: { x: 1, y: 1 }, previous: {} });
    expect(Object.values(result).map(partitionCount)).toEqual([1, 1]);
  });

  it('is deterministic whatever the order of the members', () => {
    const members = ['m3', 'm1', 'm2'].map((memberId) => ({ memberId, topics: ['t', 'u'] }));
    const input = { partitionCounts: { t: 7, u: 3 }, previous: { m1: { t: [0, 1, 2, 3, 4] } } };
    expect(assignPartitions({ ...input, members })).toEqual(
      assignPartitions({ ...input, members: [...members].reverse() }),
    );
  });

  it('holds complete, balanced and minimal-move over random join/leave sequences (same subscription)', () => {
    for (let seed = 1; seed <= 100; seed++) {
      const random = rng(seed);
      const partitions = 1 + Math.floor(random() * 40);
      let current: Record<string, TopicPartitions> = {};
      let nextId = 0;
      for (let step = 0; step < 30; step++) {
        const ids = Object.keys(current);
        const survivors =
          ids.length > 0 && random() < 0.4 ? ids.filter(() => random() > 0.3) : [...ids, `m${nextId++}`];
        const joined = survivors.length > ids.length ? survivors.slice(ids.length) : [];
        if (random() < 0.2) joined.push(`m${nextId++}`);
        const memberIds = [...new Set([...survivors, ...joined])];
        const members = memberIds.map((memberId) => ({ memberId, topics: ['t'] }));
        const next = assignPartitions({ members, partitionCounts: { t: partitions }, previous: current });
        checkComplete(members, { t: partitions }, next);
        const loads = Object.values(next).map(partitionCount);
        const spread = loads.length > 0 ? Math.max(...loads) - Math.min(...loads) : 0;
        const moved = movedPartitions(current, next);
        const minimal = minimalMoves(current, memberIds, partitions);
        if (spread > 1 || moved !== minimal) {
          expect.fail(`seed ${seed} step ${step}: spread ${spread}, moved ${moved} (minimal ${minimal})`);
        }
        current = next;
      }
    }
  });

  it('holds complete and locally balanced over random mixed subscriptions', () => {
    const topicNames = ['a', 'b', 'c', 'd'];
    for (let seed = 1; seed <= 200; seed++) {
      const random = rng(seed * 7919);
      const counts = Object.fromEntries(topicNames.map((t) => [t, Math.floor(random() * 9)]));
      let current: Record<string, TopicPartitions> = {};
      let members: Subscriber[] = [];
      let nextId = 0;
      for (let step = 0; step < 20; step++) {
        members = members.filter(() => random() > 0.25);
        const joins = Math.floor(random() * 3);
        for (let j = 0; j < joins; j++) {
          const topics = topicNames.filter(() => random() < 0.5);
          members.push({ memberId: `m${nextId++}`, topics: topics.length > 0 ? topics : ['a'] });
        }
        const next = assignPartitions({ members, partitionCounts: counts, previous: current });
        checkComplete(members, counts, next);
        // No partition could move to a member owning two fewer that subscribes to its topic.
        for (const over of members) {
          for (const under of members) {
            const gap = partitionCount(next[over.memberId] ?? {}) - partitionCount(next[under.memberId] ?? {});
            if (gap < 2) continue;
            const movable = Object.keys(next[over.memberId] ?? {}).filter((t) => under.topics.includes(t));
            if (movable.length > 0)
              expect.fail(`seed ${seed}: ${over.memberId} could give ${movable} to ${under.memberId}`);
          }
        }
        current = next;
      }
    }
  });

  it('assigns 1,000 partitions over 100 members', () => {
    const members = Array.from({ length: 100 }, (_, i) => ({
      memberId: `m${String(i).padStart(3, '0')}`,
      topics: ['t'],
    }));
    const first = assignPartitions({ members, partitionCounts: { t: 1000 }, previous: {} });
    checkComplete(members, { t: 1000 }, first);
    const survivors = members.slice(1);
    const second = assignPartitions({ members: survivors, partitionCounts: { t: 1000 }, previous: first });
    checkComplete(survivors, { t: 1000 }, second);
    expect(movedPartitions(first, second)).toBe(0);
  });
});
