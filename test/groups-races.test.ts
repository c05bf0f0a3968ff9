import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GroupState, rebalance } from '#shared/domain/groups/membership';
import { GroupChangedError, type GroupStore } from '#shared/ports/group-store';
import { type Stack, startStack } from './harness';

/**
 * Races of membership, heartbeats and commits, checked on every group document that was
 * actually written (the store is observed, not replaced) and on what clients were told.
 */
let stack: Stack;
// The clock stands still unless a test moves it: sessions expire when a test says so,
// never because the machine was slow.
const start = Date.now();
let skew = 0;
const clock = () => start + skew;
/** Every group document written, in write order. */
const written: GroupState[] = [];
beforeAll(async () => {
  stack = await startStack({ clock });
  const store = stack.deps.groups as GroupStore;
  const create = store.create.bind(store);
  const update = store.update.bind(store);
  store.create = async (tenantId, state) => {
    await create(tenantId, state);
    written.push(structuredClone(state));
  };
  store.update = async (tenantId, expected, next, expired) => {
    await update(tenantId, expected, next, expired);
    written.push(structuredClone(next));
  };
});
afterAll(() => stack.close());

type Assignments = { topic: string; partitions: number[] }[];
const owned = (assignments: Assignments) => assignments.flatMap((a) => a.partitions.map((p) => `${a.topic}/${p}`));

/** At every written generation: no partition has two owners, and while members exist each partition has one. */
const checkWrittenGenerations = (group: string, partitionsOf: Record<string, number>) => {
  const states = written.filter((s) => s.group === group);
  const generations = states.map((s) => s.generation);
  expect(new Set(generations).size, 'each generation is written once').toBe(generations.length);
  for (const state of states) {
    const owners = new Map<string, string>();
    for (const member of Object.values(state.members)) {
      for (const [topic, partitions] of Object.entries(member.assignments)) {
        for (const p of partitions) {
          const key = `${topic}/${p}`;
          if (owners.has(key)) expect.fail(`generation ${state.generation}: ${key} owned twice`);
          owners.set(key, member.memberId);
        }
      }
    }
    if (Object.keys(state.members).length > 0) {
      const expected = Object.entries(partitionsOf).reduce((n, [, count]) => n + count, 0);
      expect(owners.size, `generation ${state.generation}: every partition owned`).toBe(expected);
    }
  }
  return states.length;
};

/** What clients were told, by generation: no two members were told they own the same partition. */
const checkToldGenerations = (told: { generation: number; memberId: string; assignments: Assignments }[]) => {
  const byGeneration = new Map<number, Map<string, string>>();
  for (const t of told) {
    const owners = byGeneration.get(t.generation) ?? new Map<string, string>();
    byGeneration.set(t.generation, owners);
    for (const key of owned(t.assignments)) {
      const other = owners.get(key);
      if (other !== undefined && other !== t.memberId) {
        expect.fail(`generation ${t.generation}: ${key} told to ${other} and ${t.memberId}`);
      }
      owners.set(key, t.memberId);
    }
  }
  return byGeneration.size;
};

describe('consumer group races', () => {
  // The machine running the suite is small and shared: 20 concurrent joiners already make
  // ~200 lost compare-and-set rounds. `npm run bench` runs larger groups.
  const MEMBERS = 20;

  it('keeps one owner per partition while 20 members join at once, then 10 leave while 10 heartbeat', {
    timeout: 90_000,
  }, async () => {
    const { api } = stack;
    await api.post('/v1/topics', { name: 'r-a', partitions: 24 });
    await api.post('/v1/topics', { name: 'r-b', partitions: 7 });
    const told: { generation: number; memberId: string; assignments: Assignments }[] = [];

    const joined = await Promise.all(
      Array.from({ length: MEMBERS }, async () => {
        const res = await api.post('/v1/groups/race/members', { topics: ['r-a', 'r-b'], sessionTimeoutMs: 60_000 });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        told.push({ ...res.body });
        return res.body.memberId as string;
      }),
    );
    expect(new Set(joined).size).toBe(MEMBERS);

    // Half leave while the other half heartbeat in a loop: no heartbeat of a staying member may fail.
    const leaving = joined.slice(0, MEMBERS / 2);
    const staying = joined.slice(MEMBERS / 2);
    let stop = false;
    const beats = staying.map(async (memberId) => {
      let n = 0;
      while (!stop || n < 2) {
        const res = await api.post(`/v1/groups/race/members/${memberId}/heartbeat`);
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        told.push({ memberId, ...res.body });
        n++;
      }
    });
    await Promise.all(
      leaving.map(async (memberId) =>
        expect((await api.delete(`/v1/groups/race/members/${memberId}`)).status).toBe(204),
      ),
    );
    stop = true;
    await Promise.all(beats);

    const final = (await api.get('/v1/groups/race')).body;
    expect(final.members.map((m: any) => m.memberId).sort()).toEqual([...staying].sort());
    const counts = final.members.map((m: any) => owned(m.assignments).length);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    // One generation per join and per leave, each written once and sound.
    expect(final.generation).toBe(MEMBERS + MEMBERS / 2);
    expect(checkWrittenGenerations('race', { 'r-a': 24, 'r-b': 7 })).toBe(MEMBERS + MEMBERS / 2);
    expect(checkToldGenerations(told)).toBeGreaterThan(1);
    for (const t of told.filter((t) => t.generation === final.generation)) {
      expect(owned(t.assignments)).toEqual(
        owned(final.members.find((m: any) => m.memberId === t.memberId).assignments),
      );
    }
  });

  it('removes expired members exactly once while the survivors heartbeat concurrently', async () => {
    const { api } = stack;
    await api.post('/v1/topics', { name: 'r-exp', partitions: 12 });
    const short = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const res = await api.post('/v1/groups/expiry/members', { topics: ['r-exp'], sessionTimeoutMs: 10_000 });
        return res.body.memberId as string;
      }),
    );
    const long = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const res = await api.post('/v1/groups/expiry/members', { topics: ['r-exp'], sessionTimeoutMs: 300_000 });
        return res.body.memberId as string;
      }),
    );
    const before = (await api.get('/v1/groups/expiry')).body.generation;
    expect(before).toBe(12);
    skew += 10_001 + 200;
    // Every survivor heartbeats at once: all see the expiry, one removal wins.
    const told = await Promise.all(
      long.map(async (memberId) => {
        const res = await api.post(`/v1/groups/expiry/members/${memberId}/heartbeat`);
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        return { memberId, ...res.body };
      }),
    );
    const after = (await api.get('/v1/groups/expiry')).body;
    expect(after.generation).toBe(13);
    expect(after.members.map((m: any) => m.memberId).sort()).toEqual([...long].sort());
    for (const t of told) expect(t.generation).toBe(13);
    expect(told.flatMap((t) => owned(t.assignments)).sort()).toEqual(
      Array.from({ length: 12 }, (_, p) => `r-exp/${p}`).sort(),
    );
    for (const memberId of short) {
      expect((await api.post(`/v1/groups/expiry/members/${memberId}/heartbeat`)).body.code).toBe('fenced');
    }
    checkWrittenGenerations('expiry', { 'r-exp': 12 });
  });

  it('keeps a member whose heartbeat lands between an expiry’s read and its write (clock skew between instances)', async () => {
    const { api, tenantId } = stack;
    await api.post('/v1/topics', { name: 'r-skew', partitions: 2 });
    const m = (await api.post('/v1/groups/skew/members', { topics: ['r-skew'], sessionTimeoutMs: 10_000 })).body;
    const store = stack.deps.groups as GroupStore;
    const read = (await store.get(tenantId, 'skew')) as GroupState;
    const deadline = read.deadlines[m.memberId] as number;
    // Instance R, whose clock runs ahead, sees M expired and prepares its removal...
    const removal = rebalance(read, { topics: read.topics, now: deadline + 5 });
    expect(removal?.expired).toEqual([m.memberId]);
    // ...while instance H, 10 ms behind, serves M's heartbeat, which succeeds.
    await store.heartbeat(tenantId, 'skew', m.memberId, deadline - 5);
    // R's write must now fail (the version did not move; the deadline did), and M stays.
    await expect(store.update(tenantId, read, removal?.next as GroupState, removal?.expired ?? [])).rejects.toThrow(
      GroupChangedError,
    );
    const after = (await store.get(tenantId, 'skew')) as GroupState;
    expect(Object.keys(after.members)).toEqual([m.memberId]);
    expect(after.deadlines[m.memberId]).toBe(deadline - 5 + 10_000);
  });

  it('never lets a zombie’s commit land, also when it is fenced between its read and its write', async () => {
    const { api } = stack;
    await api.post('/v1/topics', { name: 'r-z', partitions: 1 });
    await api.post('/v1/topics/r-z/records', { records: Array.from({ length: 10 }, (_, i) => ({ value: `v${i}` })) });
    const zombie = (
      await api.post('/v1/groups/zombies/members', {
        topics: ['r-z'],
        sessionTimeoutMs: 10_000,
        autoOffsetReset: 'earliest',
      })
    ).body;
    expect(zombie.assignments).toEqual([{ topic: 'r-z', partitions: [0] }]);
    expect((await api.get(`/v1/groups/zombies/members/${zombie.memberId}/records`)).body.records).toHaveLength(10);

    // The zombie's commit reads the group (it still owns partition 0), passes every
    // check... and stalls just before its conditional write.
    const store = stack.deps.groups as GroupStore;
    const commit = store.commit.bind(store);
    let release!: () => void;
    let paused!: () => void;
    const stalled = new Promise<void>((r) => {
      release = r;
    });
    const checked = new Promise<void>((r) => {
      paused = r;
    });
    store.commit = async (tenantId, group, write) => {
      store.commit = commit;
      paused();
      await stalled;
      return commit(tenantId, group, write);
    };
    const zombieCommit = api.post('/v1/groups/zombies/offsets', {
      memberId: zombie.memberId,
      generation: zombie.generation,
      offsets: [{ topic: 'r-z', partition: 0, offset: 9 }],
    });
    await checked;

    // Meanwhile its session runs out, a new member takes the partition, reads and commits 4.
    skew += 10_001;
    const heir = (await api.post('/v1/groups/zombies/members', { topics: ['r-z'], autoOffsetReset: 'earliest' })).body;
    expect(heir.generation).toBe(zombie.generation + 1);
    expect(heir.assignments).toEqual([{ topic: 'r-z', partitions: [0] }]);
    const read = await api.get(`/v1/groups/zombies/members/${heir.memberId}/records?maxRecords=4`);
    expect(read.body.records.map((r: any) => r.offset)).toEqual([0, 1, 2, 3]);
    expect(
      (
        await api.post('/v1/groups/zombies/offsets', {
          memberId: heir.memberId,
          generation: heir.generation,
          offsets: [{ topic: 'r-z', partition: 0, offset: 4 }],
        })
      ).status,
    ).toBe(204);

    // Now the zombie's write arrives: refused, and the committed offset stays the heir's.
    release();
    const res = await zombieCommit;
    expect(res.status, JSON.stringify(res.body)).toBe(409);
    expect(res.body.code).toBe('fenced');
    expect((await api.get('/v1/groups/zombies/offsets')).body.offsets).toEqual([
      { topic: 'r-z', partition: 0, offset: 4, metadata: null },
    ]);

    // And a plain late commit is refused outright.
    const late = await api.post('/v1/groups/zombies/offsets', {
      memberId: zombie.memberId,
      generation: zombie.generation,
      offsets: [{ topic: 'r-z', partition: 0, offset: 10 }],
    });
    expect(late.body.code).toBe('fenced');
    expect((await api.get('/v1/groups/zombies/offsets')).body.offsets[0].offset).toBe(4);
  });

  it('tells a live member whose commit lost to a newer generation where it stands, without a re-join', async () => {
    const { api } = stack;
    await api.post('/v1/topics', { name: 'r-live', partitions: 2 });
    await api.post('/v1/topics/r-live/records', {
      records: [0, 1, 2, 3].map((i) => ({ value: `v${i}`, partition: i % 2 })),
    });
    const a = (await api.post('/v1/groups/live/members', { topics: ['r-live'], autoOffsetReset: 'earliest' })).body;
    expect(owned(a.assignments)).toEqual(['r-live/0', 'r-live/1']);
    expect((await api.get(`/v1/groups/live/members/${a.memberId}/records`)).body.records).toHaveLength(4);

    // A's commit of both partitions passes every check and stalls before its writes.
    const store = stack.deps.groups as GroupStore;
    const commit = store.commit.bind(store);
    let release!: () => void;
    const stalled = new Promise<void>((r) => {
      release = r;
    });
    let arrived = 0;
    let bothArrived!: () => void;
    const checked = new Promise<void>((r) => {
      bothArrived = r;
    });
    store.commit = async (tenantId, group, write) => {
      if (++arrived === 2) bothArrived();
      await stalled;
      return commit(tenantId, group, write);
    };
    const aCommit = api.post('/v1/groups/live/offsets', {
      memberId: a.memberId,
      generation: a.generation,
      offsets: [
        { topic: 'r-live', partition: 0, offset: 2 },
        { topic: 'r-live', partition: 1, offset: 2 },
      ],
    });
    await checked;
    store.commit = commit;

    // Meanwhile B joins (generation 2) and claims its partition by fetching.
    const b = (await api.post('/v1/groups/live/members', { topics: ['r-live'], autoOffsetReset: 'earliest' })).body;
    expect(b.generation).toBe(a.generation + 1);
    expect((await api.get(`/v1/groups/live/members/${b.memberId}/records`)).status).toBe(200);

    release();
    const res = await aCommit;
    expect(res.status, JSON.stringify(res.body)).toBe(409);
    expect(res.body.code).toBe('rebalance_in_progress');
    expect(res.body.generation).toBe(b.generation);
    const aOwns = owned(res.body.assignments);
    expect(aOwns).toHaveLength(1);
    expect([...aOwns, ...owned(b.assignments)].sort()).toEqual(['r-live/0', 'r-live/1']);

    // A carries on with what it was told: its commit in the new generation lands, and
    // nobody joined again (the generation did not move).
    const [, partition] = (aOwns[0] as string).split('/');
    expect(
      (
        await api.post('/v1/groups/live/offsets', {
          memberId: a.memberId,
          generation: res.body.generation,
          offsets: [{ topic: 'r-live', partition: Number(partition), offset: 2 }],
        })
      ).status,
    ).toBe(204);
    expect((await api.get('/v1/groups/live')).body.generation).toBe(b.generation);
  });
});
