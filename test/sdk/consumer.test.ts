import { type Consumer, type FetchLike, Runnel } from '@runnel/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpStack, startHttpStack, when } from './http-stack';

/**
 * Consumer groups through the SDK against the local stack. The server's clock is
 * injected (`skew`), so session timeouts pass without waiting for them: the tests move
 * time forward and synchronise on the consumers' own events (heartbeats, commits,
 * rebalances, processed records), never on sleeps.
 */
let skew = 0;
let h: HttpStack;
let admin: Runnel;

beforeAll(async () => {
  h = await startHttpStack({ clock: () => Date.now() + skew });
  admin = new Runnel({ url: h.url, apiKey: h.stack.apiKey });
});
afterAll(async () => {
  await h?.close();
});

const nextEvent = (consumer: Consumer, event: 'heartbeat' | 'commit', n = 1) =>
  new Promise<void>((resolve) => {
    let seen = 0;
    const off = consumer.on(event, () => {
      if (++seen >= n) {
        off();
        resolve();
      }
    });
  });

describe('SDK consumer', () => {
  it('a handler slower than the session timeout keeps its partitions (heartbeats on their own timer)', async () => {
    await admin.topics.create({ name: 'slow', partitions: 2 });
    await admin.produce('slow', [
      { partition: 0, value: 'a' },
      { partition: 1, value: 'b' },
    ]);
    const consumer = new Runnel({ url: h.url, apiKey: h.stack.apiKey }).consumer({
      groupId: 'g-slow',
      topics: ['slow'],
      sessionTimeoutMs: 10_000,
      heartbeatIntervalMs: 20,
      autoOffsetReset: 'earliest',
    });
    let started!: () => void;
    const handlerStarted = new Promise<void>((r) => {
      started = r;
    });
    let release!: () => void;
    const released = new Promise<void>((r) => {
      release = r;
    });
    const processed: string[] = [];
    const running = consumer.run({
      eachMessage: async ({ message }) => {
        started();
        await released;
        processed.push(message.value as string);
      },
    });
    await handlerStarted;
    const { memberId, generation } = consumer;
    // 12 s of the server's time pass while the handler is stuck, in steps shorter than the
    // session; after each step we wait for two heartbeats (the second surely sent after it).
    for (let step = 0; step < 6; step++) {
      skew += 2_000;
      await nextEvent(consumer, 'heartbeat', 2);
    }
    // Describing the group removes expired members: ours must still be there, same generation.
    const group = await admin.groups.describe('g-slow');
    expect(group.members.map((m) => m.memberId)).toEqual([memberId]);
    expect(group.generation).toBe(generation);
    const committed = nextEvent(consumer, 'commit', 2);
    release();
    await committed;
    expect(processed.sort()).toEqual(['a', 'b']);
    await consumer.close();
    await running;
    expect((await admin.groups.offsets('g-slow')).map((o) => o.offset)).toEqual([1, 1]);
    expect((await admin.groups.describe('g-slow')).members).toEqual([]);
  });

  it('a commit answered rebalance_in_progress carries on with the new assignment, without re-joining', async () => {
    await admin.topics.create({ name: 'rip', partitions: 2 });
    await admin.produce('rip', [
      { partition: 0, value: 'a' },
      { partition: 1, value: 'b' },
    ]);
    const commits: { status: number; code?: string }[] = [];
    const observing: FetchLike = async (input, init) => {
      const res = await fetch(input, init);
      if (init.method === 'POST' && input.endsWith('/groups/g-rip/offsets')) {
        const body = res.status === 204 ? undefined : ((await res.clone().json()) as { code: string });
        commits.push({ status: res.status, ...(body ? { code: body.code } : {}) });
      }
      return res;
    };
    // No heartbeat during the test: only the commit can tell this member about the rebalance.
    const a = new Runnel({ url: h.url, apiKey: h.stack.apiKey, fetch: observing }).consumer({
      groupId: 'g-rip',
      topics: ['rip'],
      sessionTimeoutMs: 300_000,
      heartbeatIntervalMs: 299_000,
      autoOffsetReset: 'earliest',
      autoCommit: false,
    });
    const batches = a[Symbol.asyncIterator]();
    const first = await batches.next();
    expect(first.done).toBe(false);
    const batch = first.value as { partition: number; records: { offset: number }[] };
    const memberId = a.memberId;
    expect(a.assignment()).toEqual([{ topic: 'rip', partitions: [0, 1] }]);
    // Another member joins by hand: a new generation moves one partition to it.
    const b = await admin.request<{ memberId: string; generation: number; assignments: { partitions: number[] }[] }>(
      'POST',
      '/v1/groups/g-rip/members',
      { body: { topics: ['rip'], sessionTimeoutMs: 300_000 } },
    );
    const next = (batch.records.at(-1)?.offset ?? 0) + 1;
    await a.commit([{ topic: 'rip', partition: batch.partition, offset: next }]);
    expect(commits[0]).toEqual({ status: 409, code: 'rebalance_in_progress' });
    expect(a.memberId).toBe(memberId); // no re-join
    expect(a.generation).toBe(b.generation);
    const moved = b.assignments.flatMap((x: { partitions: number[] }) => x.partitions);
    const kept = [0, 1].filter((p) => !moved.includes(p));
    expect(a.assignment()).toEqual([{ topic: 'rip', partitions: kept }]);
    const group = await admin.groups.describe('g-rip');
    expect(group.members.map((m) => m.memberId).sort()).toEqual([memberId, b.memberId].sort());
    const committed = (await admin.groups.offsets('g-rip')).find((o) => o.partition === batch.partition);
    // Still ours: committed with the new generation. Moved: not ours to commit any more.
    if (kept.includes(batch.partition)) {
      expect(commits[1]).toEqual({ status: 204 });
      expect(committed?.offset).toBe(next);
    } else expect(committed).toBeUndefined();
    await a.close();
  });

  it('3 members join, leave and die while a producer writes: at least once, commits never go back, clean leaves duplicate nothing', async () => {
    const TOPIC = 'grp';
    const PARTITIONS = 6;
    await admin.topics.create({ name: TOPIC, partitions: PARTITIONS });
    const counts = new Map<string, number>();
    const listeners = new Set<() => void>();
    const changed = () => {
      for (const l of [...listeners]) l();
    };
    const subscribe = (check: () => void) => {
      listeners.add(check);
      return () => listeners.delete(check);
    };
    // Committed offsets sampled from the server after every commit: never lower than before.
    const lastCommitted = new Map<number, number>();
    let sampling = Promise.resolve();
    const backwards: string[] = [];
    const sample = () => {
      sampling = sampling.then(async () => {
        for (const o of await admin.groups.offsets('g-grp', TOPIC)) {
          const before = lastCommitted.get(o.partition) ?? 0;
          if (o.offset < before) backwards.push(`p${o.partition}: ${before} -> ${o.offset}`);
          lastCommitted.set(o.partition, Math.max(before, o.offset));
        }
      });
    };
    const consumers: Consumer[] = [];
    const runs: Promise<void>[] = [];
    const start = (fetchFn?: FetchLike, sessionTimeoutMs = 60_000) => {
      const c = new Runnel({ url: h.url, apiKey: h.stack.apiKey, ...(fetchFn ? { fetch: fetchFn } : {}) }).consumer({
        groupId: 'g-grp',
        topics: [TOPIC],
        sessionTimeoutMs,
        heartbeatIntervalMs: 50,
        autoOffsetReset: 'earliest',
        waitMs: 200,
      });
      c.on('commit', sample);
      c.on('rebalance', changed);
      consumers.push(c);
      runs.push(
        c.run({
          eachMessage: ({ message }) => {
            const id = message.value as string;
            counts.set(id, (counts.get(id) ?? 0) + 1);
            changed();
          },
        }),
      );
      return c;
    };
    const settled = (members: Consumer[]) => () => {
      const g = members[0]?.generation;
      const owned = members.flatMap((m) => m.assignment().flatMap((a) => a.partitions));
      return (
        members.every((m) => m.generation === g) && owned.length === PARTITIONS && new Set(owned).size === PARTITIONS
      );
    };
    const producer = admin.producer({ lingerMs: 5 });
    let produced = 0;
    const produce = (n: number) =>
      Promise.all(
        Array.from({ length: n }, () => {
          const id = `r${produced++}`;
          return producer.send({ topic: TOPIC, key: id, value: id });
        }),
      );
    const allProcessed = () => when(subscribe, () => counts.size === produced);

    // Phase 1, clean: three members settle, then one and another leave cleanly while records flow.
    const c1 = start();
    const c2 = start();
    const c3 = start();
    await when(subscribe, settled([c1, c2, c3]));
    await produce(100);
    await allProcessed();
    await Promise.all([produce(100), c2.close()]);
    await allProcessed();
    await Promise.all([produce(100), c3.close()]);
    await allProcessed();
    const duplicates = [...counts.entries()].filter(([, n]) => n > 1);
    expect(duplicates, 'clean shutdowns must not duplicate').toEqual([]);

    // Phase 2, rough: a member joins while records flow, another joins and is killed
    // (no leave, no commit: its session runs out on the server's clock).
    let dead = false;
    const killable: FetchLike = (input, init) =>
      dead ? Promise.reject(new TypeError('fetch failed (killed)')) : fetch(input, init);
    const [, c4] = await Promise.all([produce(100), Promise.resolve(start())]);
    const c5 = start(killable, 10_000);
    await when(subscribe, settled([c1, c4, c5]));
    await produce(100);
    await when(subscribe, () => c5.assignment().length > 0);
    dead = true;
    skew += 11_000; // c5's 10 s session is over; the others' 60 s sessions are not
    await produce(100);
    await when(subscribe, settled([c1, c4]));
    await allProcessed();
    for (const [id, n] of counts) expect(n, id).toBeGreaterThanOrEqual(1);
    expect(counts.size).toBe(produced);

    await producer.close();
    await Promise.all([c1.close(), c4.close()]);
    void c5.close().catch(() => {});
    await Promise.all([runs[0], runs[3]]);
    await sampling;
    expect(backwards).toEqual([]);
    // The clean closes committed what their members processed. A partition the killed member
    // processed past its last commit is redelivered to its new owner only if that owner
    // fetches before it closes (at least once), so its commit may trail the high watermark.
    const final = await admin.groups.offsets('g-grp', TOPIC);
    const describe = await admin.topics.describe(TOPIC);
    for (const p of describe.partitionStates) {
      const committed = final.find((o) => o.partition === p.partition)?.offset ?? -1;
      expect(committed).toBeGreaterThan(0);
      expect(committed).toBeLessThanOrEqual(p.highWatermark);
    }
  }, 180_000);
});
