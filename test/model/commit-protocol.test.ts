import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '#shared/constants';
import type { IdempotencyStore } from '#shared/ports/idempotency-store';
import {
  entryEnd,
  type IndexEntry,
  isGap,
  isInnerMarker,
  type LogIndex,
  OffsetTakenError,
  type PartitionRef,
  partitionKey,
} from '#shared/ports/log-index';
import type { Topic } from '#shared/ports/metadata-store';
import type { SegmentStore } from '#shared/ports/segment-store';
import { ExactlyOnceProducer, type Idempotency, requestHash } from '#shared/services/exactly-once';
import { PartitionLog } from '#shared/services/partition-log';
import { PartitionReader } from '#shared/services/partition-reader';
import { type ProducedOffset, ProduceService } from '#shared/services/produce';

import { immediateWorld, ModelIdempotencyStore, ModelLogIndex, type World } from './model-ports';

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
 * those entries, an unrelated writer's entry appears exactly once, entries never overlap, and no
 * read passed an offset that holds a record (checkPartition).
 */

const _clone = <T>(v: T): T => structuredClone(v);

class Ambiguous extends Error {
  constructor() {
    super('acknowledgement lost');
  }
}

class LostReservation extends Error {}

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
    // A lost acknowledgement of the increment: the SDK's retry increments again and answers
    // that second reservation; the first is left to no one (a hole readers mark).
    reserve: async (p, n) => {
      try {
        return await gate(
          () => index.reserve(p, n),
          true,
          () => new LostReservation(),
        );
      } catch (error) {
        if (!(error instanceof LostReservation)) throw error;
        return index.reserve(p, n);
      }
    },
    readCounter: (p) =>
      gate(
        () => index.readCounter(p),
        false,
        () => new Ambiguous(),
      ),
    removeCounter: (p) =>
      gate(
        () => index.removeCounter(p),
        true,
        () => new Ambiguous(),
      ),
    raiseFloor: (p, o) =>
      gate(
        () => index.raiseFloor(p, o),
        true,
        () => new Ambiguous(),
      ),
    initCounter: (p, c) =>
      gate(
        () => index.initCounter(p, c),
        true,
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

/** Gap bound G and writer bound W of the model (same units as the lease: W + settle < G). */
const GAP_BOUND = 60;
const WRITER_BOUND = 20;

/** One read as a consumer made it: from where, what it returned, where it said to go on. */
interface ReadSeen {
  from: number;
  offsets: number[];
  values: string[];
  nextOffset: number;
}

const readAll = async (reader: PartitionReader, ref: PartitionRef): Promise<ReadSeen> => {
  const seen: ReadSeen = { from: 0, offsets: [], values: [], nextOffset: 0 };
  for (let i = 0; i < 200; i++) {
    const r = await reader.read(ref, seen.nextOffset, { maxRecords: 1_000, maxBytes: 1e9 }, -1);
    for (const record of r.records) {
      seen.offsets.push(record.offset);
      seen.values.push(Buffer.from(record.value ?? []).toString());
    }
    if (r.records.length === 0 && r.nextOffset === seen.nextOffset) break;
    seen.nextOffset = r.nextOffset;
  }
  return seen;
};

/**
 * The partition as the protocol must leave it, whatever happened: entries never overlap;
 * a marker (other than an inner one covered by what starts at its hole) never overlaps an
 * entry; a full read from 0 once every hole is older than the gap bound returns every
 * record of every entry, once, in offset order; and no read made during the run passed
 * an offset that an entry holds (never skips, so never beyond an unresolved hole).
 */
const checkPartition = async (state: ModelLogIndex, ref: PartitionRef, reads: readonly ReadSeen[]) => {
  const entries = [...(state.partitions.get(partitionKey(ref))?.values() ?? [])].sort(
    (a, b) => a.baseOffset - b.baseOffset,
  );
  const real = entries.filter((e) => !isGap(e));
  for (let i = 1; i < real.length; i++) {
    expect(entryEnd(real[i - 1] as IndexEntry)).toBeLessThanOrEqual((real[i] as IndexEntry).baseOffset);
  }
  for (const marker of entries.filter((e) => isGap(e) && !isInnerMarker(e))) {
    for (const e of real) {
      const overlap = e.baseOffset < entryEnd(marker) && marker.baseOffset < entryEnd(e);
      expect(overlap, `marker at ${marker.baseOffset} over the entry at ${e.baseOffset}`).toBe(false);
    }
  }
  const held = new Set(real.flatMap((e) => Array.from({ length: e.recordCount }, (_, i) => e.baseOffset + i)));
  const world = immediateWorld();
  world.now = 1e9;
  const final = await readAll(
    new PartitionReader({
      index: new ModelLogIndex(world, state),
      segments: noSegments,
      clock: () => world.now,
      gapBoundMs: GAP_BOUND,
    }),
    ref,
  );
  expect(final.offsets).toEqual([...held].sort((a, b) => a - b));
  const valueAt = new Map(final.offsets.map((o, i) => [o, final.values[i]]));
  for (const read of reads) {
    const returned = new Set(read.offsets);
    read.offsets.forEach((o, i) => {
      expect(valueAt.get(o)).toBe(read.values[i]);
    });
    for (let o = read.from; o < read.nextOffset; o++) {
      if (held.has(o)) expect(returned.has(o), `a read from ${read.from} passed offset ${o}`).toBe(true);
    }
    for (let i = 1; i < read.offsets.length; i++) {
      expect(read.offsets[i] as number).toBeGreaterThan(read.offsets[i - 1] as number);
    }
  }
  return final;
};

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
        fc.array(
          fc.record({ partition: fc.integer({ min: 0, max: 2 }), crashAt: fc.option(fc.nat(10), { nil: undefined }) }),
          {
            maxLength: 2,
          },
        ),
        async (s, mode, attempts, partitionChoices, plainPartitions, readerPlans) => {
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
            const log = new PartitionLog({ index: ports.index, clock, reservationBoundMs: WRITER_BOUND });
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
            const log = new PartitionLog({ index: ports.index, clock, reservationBoundMs: WRITER_BOUND });
            await new ProduceService(log, noSegments, clock)
              .produce(topic, [{ key: null, value: Buffer.from(`plain${i}`), headers: [], timestamp: 5, partition }], {
                limits: DEFAULT_LIMITS,
                writerId: `plain${i}`,
              })
              .catch(() => {});
          });
          // Consumers tailing partitions: they wait on holes and mark them once older than the gap bound.
          const reads: Map<number, ReadSeen[]> = new Map([0, 1, 2].map((p) => [p, []]));
          const readers = readerPlans.map(async (plan) => {
            const ports = writerPorts(index, store, { crashAt: plan.crashAt, lostAcks: [] }, () =>
              s.schedule(Promise.resolve('pause')),
            );
            const reader = new PartitionReader({
              index: ports.index,
              segments: noSegments,
              clock,
              gapBoundMs: GAP_BOUND,
            });
            const ref = { tenantId: topic.tenantId, topicId: topic.topicId, partition: plan.partition };
            let from = 0;
            for (let i = 0; i < 4; i++) {
              const r = await reader.read(ref, from, { maxRecords: 2, maxBytes: 1e9 }, -1);
              reads.get(plan.partition)?.push({
                from,
                offsets: r.records.map((x) => x.offset),
                values: r.records.map((x) => Buffer.from(x.value ?? []).toString()),
                nextOffset: r.nextOffset,
              });
              from = r.nextOffset;
            }
          });
          void readers;
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
          for (const partition of [0, 1, 2]) {
            const ref = { tenantId: topic.tenantId, topicId: topic.topicId, partition };
            const final = await checkPartition(index, ref, reads.get(partition) ?? []);
            expect(new Set(final.values).size).toBe(final.values.length); // no value twice in a partition
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

/** What the hot-partition property explored, over all its schedules (it must have met each case). */
const explored = {
  holes: 0,
  multiHoles: 0,
  innerMarkers: 0,
  fenced: 0,
  lateFenced: 0,
  lostAcks: 0,
  atTail: 0,
  fences: 0,
  fencedThenReserved: 0,
};

describe('offset protocol on a hot partition (model-checked)', () => {
  it('loses, duplicates, reorders and skips nothing with writers dying after reserving, late writers and readers marking gaps', async () => {
    const runs = Number(process.env.MODEL_RUNS ?? 3000);
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(
          fc.record({
            records: fc.integer({ min: 1, max: 3 }),
            // Storage calls with a counter: 0 reserve, 1 put, then the reads of a failed put (1 = dies
            // between reservation and put). In the tail era: 0 and 1 the tail and counter reads, 2 the
            // put at the tail, then the fence's reads and puts, the counter's creation, the reservation.
            crashAt: fc.option(fc.constantFrom(0, 1, 1, 1, 2, 3, 4, 5, 6, 7), { nil: undefined, freq: 2 }),
            lostAcks: fc.array(fc.nat(2), { maxLength: 1 }),
            // A late writer ignores the writer bound: its put may come long after readers marked.
            late: fc.boolean(),
          }),
          { minLength: 3, maxLength: 6 },
        ),
        fc.array(fc.option(fc.nat(14), { nil: undefined }), { minLength: 1, maxLength: 2 }),
        // The partition starts with a counter (created from its last entry, as versions before the
        // tail era did), or empty: writers append at the tail until one loses the tail to another,
        // which fences the tail era and creates the counter.
        fc.boolean(),
        async (s, writers, readerCrashes, withCounter) => {
          // No exactly-once claims here, so no lease assumption: the clock runs freely.
          const world: World = {
            now: 1_000,
            inFlight: new Set(),
            settleMs: 0,
            schedule: async (label, apply) => {
              await s.schedule(Promise.resolve(label));
              return apply();
            },
          };
          const clock = () => world.now;
          const index = new ModelLogIndex(world);
          const store = new ModelIdempotencyStore(world);
          const ref = { tenantId: topic.tenantId, topicId: topic.topicId, partition: 0 };
          if (withCounter) index.counters.set(partitionKey(ref), { next: 0, slot: 0, floor: 0 });
          const pause = () => s.schedule(Promise.resolve('pause'));
          const acked: { values: string[]; offset: number }[] = [];
          const producing = writers.map(async (plan, w) => {
            const ports = writerPorts(index, store, plan, pause);
            if (plan.late) {
              // A late writer stalls after its reservation (or its read of the tail) until the clock
              // passed the gap bound twice: its put comes after readers may have marked its
              // reservation, or after other writers fenced the tail era.
              const stall = async () => {
                const until = world.now + GAP_BOUND * 2;
                for (let i = 0; i < 60 && world.now < until; i++) await s.schedule(Promise.resolve('stall'));
              };
              const { reserve, last } = ports.index;
              ports.index.reserve = async (p, n) => {
                const reservation = await reserve(p, n);
                await stall();
                return reservation;
              };
              ports.index.last = async (p) => {
                const tail = await last(p);
                await stall();
                return tail;
              };
            }
            const log = new PartitionLog({
              index: ports.index,
              clock,
              reservationBoundMs: plan.late ? Number.POSITIVE_INFINITY : WRITER_BOUND,
            });
            const values = Array.from({ length: plan.records }, (_, i) => `w${w}r${i}`);
            const result = await new ProduceService(log, noSegments, clock)
              .produce(
                topic,
                values.map((v) => ({ key: null, value: Buffer.from(v), headers: [], timestamp: 5, partition: 0 })),
                { limits: DEFAULT_LIMITS, writerId: `w${w}` },
              )
              .catch(() => undefined);
            if (!result) return;
            acked.push({ values, offset: result.offsets[0]?.offset as number });
            if (result.stats.appendAttempts === 1 && !index.counters.has(partitionKey(ref))) explored.atTail += 1;
            if (result.stats.appendAttempts > 1) explored.fenced += 1;
            if (result.stats.appendAttempts > 1 && plan.late) explored.lateFenced += 1;
            if (plan.lostAcks.length > 0) explored.lostAcks += 1;
          });
          const reads: ReadSeen[] = [];
          const reading = readerCrashes.map(async (crashAt) => {
            const ports = writerPorts(index, store, { crashAt, lostAcks: [] }, pause);
            const reader = new PartitionReader({
              index: ports.index,
              segments: noSegments,
              clock,
              gapBoundMs: GAP_BOUND,
            });
            let from = 0;
            for (let i = 0; i < 8; i++) {
              const r = await reader.read(ref, from, { maxRecords: 2, maxBytes: 1e9 }, -1);
              reads.push({
                from,
                offsets: r.records.map((x) => x.offset),
                values: r.records.map((x) => Buffer.from(x.value ?? []).toString()),
                nextOffset: r.nextOffset,
              });
              if (r.hole) explored.holes += 1;
              from = r.nextOffset;
              // A consumer polls again a little later.
              const until = world.now + GAP_BOUND / 2;
              for (let j = 0; j < 20 && world.now < until; j++) await s.schedule(Promise.resolve('poll'));
            }
          });
          const ticker = (async () => {
            for (let t = 0; t < 16; t++) {
              await s.schedule(Promise.resolve('tick'));
              world.now += GAP_BOUND / 2;
            }
          })();
          await s.waitFor(Promise.all([ticker]));
          for (let i = 0; i < 100; i++) {
            await s.waitAll();
            await new Promise((r) => setImmediate(r));
            if (s.count() === 0) break;
          }
          void producing;
          void reading;

          const entries = [...(index.partitions.get(partitionKey(ref))?.values() ?? [])];
          if (!withCounter && entries.some((e) => isGap(e) && e.slot === -1)) {
            explored.fences += 1;
            if (entries.some((e) => e.slot !== undefined && e.slot >= 0 && !isGap(e))) explored.fencedThenReserved += 1;
          }
          if (entries.some(isInnerMarker)) explored.innerMarkers += 1;
          if (entries.some((e) => isGap(e) && (e.lastSlot ?? e.slot ?? 0) > (e.slot ?? 0))) explored.multiHoles += 1;
          const final = await checkPartition(index, ref, reads);
          // Every acknowledged record once, at its acknowledged offset; nothing twice.
          expect(new Set(final.values).size).toBe(final.values.length);
          for (const { values, offset } of acked) {
            values.forEach((v, i) => {
              expect(final.offsets[final.values.indexOf(v)], `${v} acknowledged at ${offset + i}`).toBe(offset + i);
            });
          }
        },
      ),
      { numRuns: runs },
    );
    if (process.env.MODEL_VERBOSE)
      console.log(`hot-partition model: ${runs} schedules explored ${JSON.stringify(explored)}`);
    // The run met every case it is about, or it proves nothing.
    expect(explored.holes).toBeGreaterThan(0);
    expect(explored.multiHoles).toBeGreaterThan(0);
    expect(explored.innerMarkers).toBeGreaterThan(0);
    expect(explored.fenced).toBeGreaterThan(0);
    expect(explored.lostAcks).toBeGreaterThan(0);
    expect(explored.atTail).toBeGreaterThan(0);
    expect(explored.fences).toBeGreaterThan(0);
    expect(explored.fencedThenReserved).toBeGreaterThan(0);
  }, 120_000);
});
