import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, PRODUCER_SEQUENCE_WINDOW } from '#shared/constants';
import {
  type Claim,
  ClaimExistsError,
  ClaimFencedError,
  type ClaimRef,
  type CommittedBatch,
  type IdempotencyStore,
  type ProducerState,
  SequenceRejectedError,
} from '#shared/ports/idempotency-store';
import {
  type EntryPage,
  type IndexEntry,
  type LogIndex,
  OffsetTakenError,
  type PartitionRef,
  partitionKey,
} from '#shared/ports/log-index';
import type { Topic } from '#shared/ports/metadata-store';
import type { SegmentStore } from '#shared/ports/segment-store';
import { ExactlyOnceProducer, type Idempotency, requestHash } from '#shared/services/exactly-once';
import { PartitionLog } from '#shared/services/partition-log';
import { type ProducedOffset, ProduceService } from '#shared/services/produce';

/**
 * The exactly-once commit protocol, model-checked. The real protocol code (ExactlyOnceProducer,
 * ProduceService, PartitionLog) runs against an in-memory model of DynamoDB's single-item
 * conditional writes (this file only: a model for exploring interleavings, not a stand-in
 * for AWS anywhere else), under fast-check's scheduler, which picks the order in which
 * every storage call lands. Each schedule also picks crashes (a writer stops before its
 * k-th storage call and never makes another), lost acknowledgements (the write lands, the
 * caller sees an error; for an index write, as the SDK's retry would: a failed condition),
 * and how a virtual clock advances past leases.
 *
 * Invariants checked after every schedule: each partition holds exactly one entry of the
 * request (no duplicate, nothing lost), every answer given equals every other and points at
 * those entries, an unrelated writer's entry appears exactly once, and offsets are dense.
 */

// ---- The model: one table of items, each written by one conditional single-item write ----

const clone = <T>(v: T): T => structuredClone(v);

class Ambiguous extends Error {
  constructor() {
    super('acknowledgement lost');
  }
}

interface World {
  now: number;
  /** Send times of calls in flight: the clock may not pass sendTime + settle before they land. */
  inFlight: Set<{ sentAt: number }>;
  settleMs: number;
  schedule: <T>(label: string, apply: () => T) => Promise<T>;
}

class ModelLogIndex implements LogIndex {
  readonly partitions = new Map<string, Map<number, IndexEntry>>();
  constructor(private readonly world: World) {}
  private entries(p: PartitionRef) {
    const key = partitionKey(p);
    let m = this.partitions.get(key);
    if (!m) {
      m = new Map();
      this.partitions.set(key, m);
    }
    return m;
  }
  private sorted(p: PartitionRef) {
    return [...this.entries(p).values()].sort((a, b) => a.baseOffset - b.baseOffset);
  }
  last(p: PartitionRef) {
    return this.world.schedule('index.last', () => clone(this.sorted(p).at(-1)));
  }
  first(p: PartitionRef) {
    return this.world.schedule('index.first', () => clone(this.sorted(p)[0]));
  }
  entryAtOrBefore(p: PartitionRef, offset: number) {
    return this.world.schedule('index.entryAtOrBefore', () =>
      clone(
        this.sorted(p)
          .filter((e) => e.baseOffset <= offset)
          .at(-1),
      ),
    );
  }
  entriesFrom(p: PartitionRef, fromOffset: number, limit: number): Promise<EntryPage> {
    return this.world.schedule('index.entriesFrom', () => {
      const all = this.sorted(p).filter((e) => e.baseOffset >= fromOffset);
      return { entries: clone(all.slice(0, limit)), more: all.length > limit };
    });
  }
  append(p: PartitionRef, entry: IndexEntry) {
    return this.world.schedule('index.append', () => {
      const m = this.entries(p);
      if (m.has(entry.baseOffset)) throw new OffsetTakenError(entry.baseOffset);
      m.set(entry.baseOffset, clone(entry));
    });
  }
  // Compaction's calls (not made by the produce protocol), with the adapter's conditions.
  replace(p: PartitionRef, expected: IndexEntry, next: IndexEntry) {
    return this.world.schedule('index.replace', () => {
      const m = this.entries(p);
      const stored = m.get(expected.baseOffset);
      if (!stored || stored.recordCount !== expected.recordCount || stored.appendTime !== expected.appendTime)
        return false;
      m.set(expected.baseOffset, clone(next));
      return true;
    });
  }
  remove(p: PartitionRef, expected: IndexEntry) {
    return this.world.schedule('index.remove', () => {
      const m = this.entries(p);
      const stored = m.get(expected.baseOffset);
      if (!stored || stored.recordCount !== expected.recordCount || stored.appendTime !== expected.appendTime)
        return false;
      m.delete(expected.baseOffset);
      return true;
    });
  }
}

interface StoreItem {
  expiresAt: number;
  c?: Claim;
  lastSequence?: number;
  r?: Record<number, Claim>;
}

/** The conditions of DynamoDbIdempotencyStore, on items of a map. */
class ModelIdempotencyStore implements IdempotencyStore {
  readonly items = new Map<string, StoreItem>();
  constructor(private readonly world: World) {}
  private static key(ref: ClaimRef) {
    return ref.kind === 'key'
      ? `${ref.tenantId}|IDEM#${ref.key}`
      : `${ref.tenantId}|PRODUCER#${ref.topicId}#${ref.producerId}`;
  }
  private live(ref: ClaimRef, now: number) {
    const item = this.items.get(ModelIdempotencyStore.key(ref));
    return item && item.expiresAt >= now ? item : undefined;
  }
  private static claimIn(ref: ClaimRef, item: StoreItem | undefined) {
    if (!item) return undefined;
    return ref.kind === 'key' ? item.c : item.r?.[ref.sequence];
  }
  private static producerIn(item: StoreItem | undefined): ProducerState | undefined {
    return item ? { lastSequence: item.lastSequence as number, claims: clone(item.r ?? {}) } : undefined;
  }
  get(ref: ClaimRef, now: number) {
    return this.world.schedule('store.get', () => clone(ModelIdempotencyStore.claimIn(ref, this.live(ref, now))));
  }
  getProducer(tenantId: string, topicId: string, producerId: string, now: number) {
    return this.world.schedule('store.getProducer', () =>
      ModelIdempotencyStore.producerIn(
        this.live({ kind: 'sequence', tenantId, topicId, producerId, sequence: 0 }, now),
      ),
    );
  }
  create(ref: ClaimRef, claim: Claim, now: number, expiresAt: number) {
    return this.world.schedule('store.create', () => {
      const key = ModelIdempotencyStore.key(ref);
      const item = this.items.get(key);
      const absent = !item || item.expiresAt < now;
      if (ref.kind === 'key' || ref.sequence === 0) {
        if (absent) {
          this.items.set(
            key,
            ref.kind === 'key'
              ? { c: clone(claim), expiresAt }
              : { lastSequence: 0, r: { 0: clone(claim) }, expiresAt },
          );
          return;
        }
      } else if (item && item.lastSequence === ref.sequence - 1 && item.expiresAt >= now) {
        item.lastSequence = ref.sequence;
        item.expiresAt = expiresAt;
        item.r = { ...item.r, [ref.sequence]: clone(claim) };
        delete item.r[ref.sequence - PRODUCER_SEQUENCE_WINDOW];
        return;
      }
      const found = ModelIdempotencyStore.claimIn(ref, this.live(ref, now));
      if (found?.attemptId === claim.attemptId) return;
      if (ref.kind === 'key') throw new ClaimExistsError(clone(found as Claim));
      throw new SequenceRejectedError(ModelIdempotencyStore.producerIn(this.live(ref, now)));
    });
  }
  private update(
    ref: ClaimRef,
    label: string,
    holder: string,
    pendingOnly: boolean,
    set: Partial<Claim>,
    isOurs: (c: Claim) => boolean,
  ) {
    return this.world.schedule(label, () => {
      const claim = ModelIdempotencyStore.claimIn(ref, this.items.get(ModelIdempotencyStore.key(ref)));
      if (claim && claim.attemptId === holder && (!pendingOnly || claim.state === 'pending')) {
        Object.assign(claim, clone(set));
        return;
      }
      if (claim && isOurs(claim)) return;
      throw new ClaimFencedError(clone(claim));
    });
  }
  takeOver(ref: ClaimRef, oldAttemptId: string, attemptId: string, leaseUntil: number) {
    return this.update(
      ref,
      'store.takeOver',
      oldAttemptId,
      true,
      { attemptId, leaseUntil },
      (c) => c.attemptId === attemptId && c.state === 'pending',
    );
  }
  release(ref: ClaimRef, attemptId: string, leaseUntil: number) {
    return this.update(
      ref,
      'store.release',
      attemptId,
      true,
      { leaseUntil },
      (c) => c.attemptId === attemptId && c.leaseUntil === leaseUntil,
    );
  }
  complete(ref: ClaimRef, attemptId: string, committed: Record<number, CommittedBatch>) {
    return this.update(
      ref,
      'store.complete',
      attemptId,
      false,
      { state: 'done', committed },
      (c) => c.attemptId === attemptId && c.state === 'done',
    );
  }
}

/** Per writer: counts its storage calls, stops it for good at its crash point, loses acks where told. */
const writerPorts = (
  index: ModelLogIndex,
  store: ModelIdempotencyStore,
  plan: { crashAt: number | undefined; lostAcks: number[] },
  /** A writer may stall after any call returns (GC, a frozen function): nothing in flight, the clock runs on. */
  pause: () => Promise<unknown>,
) => {
  let calls = 0;
  const gate = async <T>(op: () => Promise<T>, write: boolean, onLostAck: () => Error): Promise<T> => {
    const n = calls++;
    if (plan.crashAt !== undefined && n >= plan.crashAt) return new Promise<T>(() => {});
    const result = await op();
    await pause();
    if (write && plan.lostAcks.includes(n)) throw onLostAck();
    return result;
  };
  const wrappedIndex: LogIndex = {
    last: (p) =>
      gate(
        () => index.last(p),
        false,
        () => new Ambiguous(),
      ),
    first: (p) =>
      gate(
        () => index.first(p),
        false,
        () => new Ambiguous(),
      ),
    entryAtOrBefore: (p, o) =>
      gate(
        () => index.entryAtOrBefore(p, o),
        false,
        () => new Ambiguous(),
      ),
    entriesFrom: (p, o, l) =>
      gate(
        () => index.entriesFrom(p, o, l),
        false,
        () => new Ambiguous(),
      ),
    // The SDK retries a write whose acknowledgement was lost; the retry then fails its condition.
    append: (p, e) =>
      gate(
        () => index.append(p, e),
        true,
        () => new OffsetTakenError(e.baseOffset),
      ),
    replace: (p, e, n) =>
      gate(
        () => index.replace(p, e, n),
        true,
        () => new Ambiguous(),
      ),
    remove: (p, e) =>
      gate(
        () => index.remove(p, e),
        true,
        () => new Ambiguous(),
      ),
  };
  const wrappedStore: IdempotencyStore = {
    get: (r, now) =>
      gate(
        () => store.get(r, now),
        false,
        () => new Ambiguous(),
      ),
    getProducer: (t, tp, p, now) =>
      gate(
        () => store.getProducer(t, tp, p, now),
        false,
        () => new Ambiguous(),
      ),
    create: (r, c, now, exp) =>
      gate(
        () => store.create(r, c, now, exp),
        true,
        () => new Ambiguous(),
      ),
    takeOver: (r, o, a, l) =>
      gate(
        () => store.takeOver(r, o, a, l),
        true,
        () => new Ambiguous(),
      ),
    release: (r, a, l) =>
      gate(
        () => store.release(r, a, l),
        true,
        () => new Ambiguous(),
      ),
    complete: (r, a, c) =>
      gate(
        () => store.complete(r, a, c),
        true,
        () => new Ambiguous(),
      ),
  };
  return { index: wrappedIndex, store: wrappedStore };
};

const noSegments: SegmentStore = {
  put: () => Promise.reject(new Error('inline only in the model')),
  getRange: () => Promise.reject(new Error('inline only in the model')),
} as unknown as SegmentStore;

const topic: Topic = {
  tenantId: 't1',
  name: 'orders',
  topicId: 'topic-1',
  partitions: 3,
  retentionMs: -1,
  createdAt: 0,
};
const timing = { leaseMs: 100, settleMs: 30 };

const writerPlan = fc.record({
  startAfterTicks: fc.nat(4),
  crashAt: fc.option(fc.nat(14), { nil: undefined }),
  lostAcks: fc.array(fc.nat(14), { maxLength: 2 }),
});

describe('exactly-once commit protocol (model-checked)', () => {
  it('never duplicates, loses or answers inconsistently, whatever the interleaving', async () => {
    let schedules = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.constantFrom<'key' | 'sequence'>('key', 'sequence'),
        fc.array(writerPlan, { minLength: 1, maxLength: 3 }),
        fc.array(fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }), { minLength: 1, maxLength: 3 }),
        fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 2 }),
        async (s, mode, attempts, partitionChoices, plainPartitions) => {
          schedules++;
          const world: World = {
            now: 1_000,
            inFlight: new Set(),
            settleMs: timing.settleMs,
            schedule: async (label, apply) => {
              const call = { sentAt: world.now };
              world.inFlight.add(call);
              try {
                await s.schedule(Promise.resolve(label));
                return apply();
              } finally {
                world.inFlight.delete(call);
              }
            },
          };
          const clock = () => world.now;
          const index = new ModelLogIndex(world);
          const store = new ModelIdempotencyStore(world);
          let ids = 0;
          const newId = () => `id${ids++}`;
          const records = partitionChoices.map((partition, i) => ({
            key: null,
            value: Buffer.from(`v${i}`),
            headers: [],
            timestamp: 5,
            partition,
          }));
          const idempotency: Idempotency =
            mode === 'key' ? { kind: 'key', key: 'K' } : { kind: 'sequence', producerId: 'P', sequence: 0 };
          const hash = requestHash('POST', '/v1/topics/orders/records', { records: partitionChoices });
          const writerFor = (plan: { crashAt: number | undefined; lostAcks: number[] }) => {
            const ports = writerPorts(index, store, plan, () => s.schedule(Promise.resolve('pause')));
            const log = new PartitionLog({ index: ports.index, clock });
            return new ExactlyOnceProducer(new ProduceService(log, noSegments, clock), log, ports.store, clock, {
              timing,
              newId,
            });
          };
          const answers: ProducedOffset[][] = [];
          const run = async (producer: ExactlyOnceProducer) => {
            try {
              answers.push(
                (await producer.produce(topic, records, idempotency, hash, { limits: DEFAULT_LIMITS })).offsets,
              );
            } catch {
              // 409 in progress, 503, an ambiguous storage error: indeterminate, the client retries.
            }
          };
          // Unrelated plain writers on the same partitions (their lost acks must not duplicate either).
          const plainWriters = plainPartitions.map(async (partition, i) => {
            const ports = writerPorts(index, store, { crashAt: undefined, lostAcks: [1] }, () =>
              s.schedule(Promise.resolve('pause')),
            );
            const log = new PartitionLog({ index: ports.index, clock });
            await new ProduceService(log, noSegments, clock)
              .produce(topic, [{ key: null, value: Buffer.from(`plain${i}`), headers: [], timestamp: 5, partition }], {
                limits: DEFAULT_LIMITS,
                writerId: `plain${i}`,
              })
              .catch(() => {});
          });
          // The clock: never past a call in flight's send time + settle (the lease argument's assumption).
          const ticker = (async () => {
            for (let t = 0; t < 20; t++) {
              await s.schedule(Promise.resolve('tick'));
              const bound = Math.min(...[...world.inFlight].map((c) => c.sentAt + world.settleMs), Infinity);
              world.now = Math.min(world.now + timing.leaseMs / 2, bound);
            }
          })();
          const runs = attempts.map(async (plan) => {
            for (let t = 0; t < plan.startAfterTicks; t++) await s.schedule(Promise.resolve('wait'));
            await run(writerFor(plan));
          });
          // Crashed writers never settle: run everything else until nothing is scheduled or in flight.
          await s.waitFor(Promise.all([ticker, ...plainWriters]));
          for (let i = 0; i < 100; i++) {
            await s.waitAll();
            await new Promise((r) => setImmediate(r));
            if (s.count() === 0 && world.inFlight.size === 0) break;
          }
          expect(world.inFlight.size).toBe(0);
          void runs;

          // The client keeps retrying after every lease has run out, with no more faults.
          world.now += 10 * timing.leaseMs;
          let final: ProducedOffset[] | undefined;
          for (let round = 0; round < 5 && !final; round++) {
            const done = writerFor({ crashAt: undefined, lostAcks: [] })
              .produce(topic, records, idempotency, hash, { limits: DEFAULT_LIMITS })
              .catch(() => undefined);
            await s.waitFor(done);
            final = (await done)?.offsets;
            world.now += 2 * timing.leaseMs;
          }
          expect(final).toBeDefined();
          for (const answer of answers) expect(answer).toEqual(final);

          const ref = ExactlyOnceProducer.refOf(topic, idempotency);
          const claimKey = [...store.items.values()][0];
          const claim = ref.kind === 'key' ? claimKey?.c : claimKey?.r?.[0];
          expect(claim?.state).toBe('done');
          const partitionsOfRequest = new Set((final as ProducedOffset[]).map((o) => o.partition));
          for (const [, entries] of index.partitions) {
            const sorted = [...entries.values()].sort((a, b) => a.baseOffset - b.baseOffset);
            let next = 0;
            for (const e of sorted) {
              expect(e.baseOffset).toBe(next); // dense
              next = e.baseOffset + e.recordCount;
            }
            const writers = sorted.map((e) => e.writerId);
            expect(new Set(writers).size).toBe(writers.length); // no writer twice in a partition
          }
          for (const partition of partitionsOfRequest) {
            const entries = [...(index.partitions.get(partitionKey({ ...topic, partition }))?.values() ?? [])];
            const mine = entries.filter((e) => e.writerId === claim?.writerId);
            expect(mine).toHaveLength(1);
            const first = (final as ProducedOffset[]).find((o) => o.partition === partition);
            expect(first?.offset).toBe(mine[0]?.baseOffset);
          }
        },
      ),
      { numRuns: Number(process.env.MODEL_RUNS ?? 3000) },
    );
    expect(schedules).toBeGreaterThanOrEqual(Number(process.env.MODEL_RUNS ?? 3000));
  }, 120_000);
});
