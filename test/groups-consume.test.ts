import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Api, type Stack, startStack } from './harness';

/**
 * A group of consumers reading a topic while producers write to it, with a member
 * leaving and another joining midway, then every member crashing and a new set taking
 * over: every acknowledged record is processed at least once, and the new set resumes
 * from the committed offsets without skipping any.
 */
let stack: Stack;
let skew = 0;
beforeAll(async () => {
  stack = await startStack({ clock: () => Date.now() + skew });
});
afterAll(() => stack.close());

const TOPIC = 'c-stream';
const GROUP = 'workers';
const PARTITIONS = 6;

/** A set that resolves waiters when a condition over it comes true (checked on every add). */
class WatchedSet extends Set<string> {
  private waiters: { condition: () => boolean; resolve: () => void }[] = [];
  override add(value: string) {
    super.add(value);
    const met = this.waiters.filter((w) => w.condition());
    this.waiters = this.waiters.filter((w) => !met.includes(w));
    for (const w of met) w.resolve();
    return this;
  }
  until(condition: () => boolean): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ condition, resolve }));
  }
}

/**
 * Producers writing `requests` requests each. With `pause`, requests after the
 * `pause.after`-th acknowledgement wait for `pause.until`: what happens then happens
 * provably while more records are still to come.
 */
const produceAll = async (
  api: Api,
  producers: number,
  requests: number,
  tag: string,
  pause?: { after: number; reached: () => void; until: Promise<void> },
) => {
  const acked = new Set<string>();
  let acks = 0;
  await Promise.all(
    Array.from({ length: producers }, async (_, producer) => {
      for (let r = 0; r < requests; r++) {
        if (pause && acks >= pause.after) await pause.until;
        const records = Array.from({ length: 4 }, (_, i) => ({
          key: `k${producer}-${r}-${i}`,
          value: `${tag}-${producer}-${r}-${i}`,
        }));
        const res = await api.post(`/v1/topics/${TOPIC}/records`, { records });
        expect(res.status).toBe(200);
        for (const o of res.body.offsets) acked.add(`${o.partition}/${o.offset}`);
        if (++acks === pause?.after) pause.reached();
      }
    }),
  );
  return acked;
};

/** A consumer: join, then fetch, process, commit, until told to stop; rejoins when fenced. */
const consumer = (api: Api, processed: WatchedSet, firstSeen: Map<string, number>) => {
  let stopped = false;
  let memberId: string | undefined;
  const join = async () => {
    const res = await api.post(`/v1/groups/${GROUP}/members`, {
      topics: [TOPIC],
      sessionTimeoutMs: 10_000,
      autoOffsetReset: 'earliest',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    memberId = res.body.memberId;
  };
  const loop = (async () => {
    await join();
    while (!stopped) {
      const res = await api.get(`/v1/groups/${GROUP}/members/${memberId}/records?waitMs=200&maxRecords=40`);
      if (res.status === 409) {
        if (res.body.code === 'fenced') await join();
        continue;
      }
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const next = new Map<number, number>();
      for (const r of res.body.records) {
        const key = `${r.partition}/${r.offset}`;
        processed.add(key);
        if (!firstSeen.has(String(r.partition))) firstSeen.set(String(r.partition), r.offset);
        next.set(r.partition, r.offset + 1);
      }
      if (next.size === 0) continue;
      // Commit after processing; a rebalance in between makes it 409, and the records are read again.
      const commit = await api.post(`/v1/groups/${GROUP}/offsets`, {
        memberId,
        generation: res.body.generation,
        offsets: [...next].map(([partition, offset]) => ({ topic: TOPIC, partition, offset })),
      });
      expect([204, 409], JSON.stringify(commit.body)).toContain(commit.status);
    }
  })();
  return {
    loop,
    stop: () => {
      stopped = true;
      return loop;
    },
    leave: async () => {
      stopped = true;
      await loop;
      expect((await api.delete(`/v1/groups/${GROUP}/members/${memberId}`)).status).toBe(204);
    },
  };
};

const missing = (acked: Set<string>, processed: Set<string>) => [...acked].filter((k) => !processed.has(k));

describe('a consumer group under load', () => {
  it('processes every acknowledged record, and a restarted group resumes without skipping', {
    timeout: 120_000,
  }, async () => {
    const { api } = stack;
    expect((await api.post('/v1/topics', { name: TOPIC, partitions: PARTITIONS })).status).toBe(201);

    // Phase 1: three consumers, producers writing, one consumer leaves and another joins midway.
    // The membership changes after the 12th of 36 requests, and the rest is produced only then.
    const processed = new WatchedSet();
    const consumers = [0, 1, 2].map(() => consumer(api, processed, new Map()));
    let reached!: () => void;
    const midway = new Promise<void>((r) => {
      reached = r;
    });
    let changed!: () => void;
    const membershipChanged = new Promise<void>((r) => {
      changed = r;
    });
    const producing = produceAll(api, 3, 12, 'one', { after: 12, reached, until: membershipChanged });
    await midway;
    await consumers[0]?.leave();
    consumers.push(consumer(api, processed, new Map()));
    changed();
    const acked = await producing;
    expect(acked.size).toBe(3 * 12 * 4);
    await processed.until(() => missing(acked, processed).length === 0);

    // Every member crashes: no leave, no more calls. Where does the group stand?
    await Promise.all(consumers.map((c) => c.stop()));
    const committed = new Map<number, number>(
      (await api.get(`/v1/groups/${GROUP}/offsets?topic=${TOPIC}`)).body.offsets.map((o: any) => [
        o.partition,
        o.offset,
      ]),
    );

    // Phase 2: their sessions run out; more records arrive; a new set of consumers takes over.
    skew += 10_001;
    const acked2 = await produceAll(api, 2, 6, 'two');
    const processed2 = new WatchedSet();
    const firstSeen = new Map<string, number>();
    const successors = [0, 1].map(() => consumer(api, processed2, firstSeen));
    await processed2.until(() => missing(acked2, processed2).length === 0);
    // A last commit may have lost to a rebalance; the running consumers read and commit again.
    // Polls the group's state (the test's timeout bounds it), not a wait for a while.
    let lagging = true;
    while (lagging) {
      const partitions = (await api.get(`/v1/groups/${GROUP}`)).body.partitions;
      lagging = partitions.some((p: any) => p.lag !== 0);
      if (lagging) await new Promise((r) => setTimeout(r, 100));
    }
    await Promise.all(successors.map((c) => c.leave()));

    // No skipping: on every partition, the successors' first record is the committed offset
    // (or the log start when nothing was committed), and everything from there on was read.
    const described = (await api.get(`/v1/groups/${GROUP}`)).body;
    expect(described.members).toEqual([]);
    for (const p of described.partitions) {
      const start = committed.get(p.partition) ?? 0;
      if (start < p.highWatermark) expect(firstSeen.get(String(p.partition)), `partition ${p.partition}`).toBe(start);
      for (let offset = start; offset < p.highWatermark; offset++) {
        expect(processed2.has(`${p.partition}/${offset}`), `${p.partition}/${offset}`).toBe(true);
      }
      expect(p.lag, `partition ${p.partition} fully committed`).toBe(0);
    }
  });
});
