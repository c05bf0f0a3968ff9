import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '#shared/constants';
import type { IdempotencyStore } from '#shared/ports/idempotency-store';
import { type LogIndex, OffsetTakenError, partitionKey } from '#shared/ports/log-index';
import type { Topic } from '#shared/ports/metadata-store';
import type { SegmentStore } from '#shared/ports/segment-store';
import { ExactlyOnceProducer, type Idempotency, requestHash } from '#shared/services/exactly-once';
import { PartitionLog } from '#shared/services/partition-log';
import { type ProducedOffset, ProduceService } from '#shared/services/produce';

import { ModelIdempotencyStore, ModelLogIndex, type World } from './model-ports';

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

const _clone = <T>(v: T): T => structuredClone(v);

class Ambiguous extends Error {
  constructor() {
    super('acknowledgement lost');
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
