import { PRODUCER_SEQUENCE_WINDOW } from '#shared/constants';
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
  type CounterState,
  type EntryPage,
  type IndexEntry,
  isSameEntry,
  type LogIndex,
  type OffsetCounter,
  OffsetTakenError,
  type PartitionRef,
  partitionKey,
  type Reservation,
  takeReservation,
} from '#shared/ports/log-index';

/**
 * In-memory models of the LogIndex and IdempotencyStore ports with the DynamoDB adapters'
 * conditions, each call applied when `world.schedule` says so: the exactly-once model
 * check (commit-protocol.test.ts) lets fast-check choose the order in which calls land.
 * The port contract suites (test/contracts/) run the same tests against these models and
 * the adapters, so a model cannot drift from what it models.
 */

const clone = <T>(v: T): T => structuredClone(v);

export interface World {
  now: number;
  /** Send times of calls in flight: the clock may not pass sendTime + settle before they land. */
  inFlight: Set<{ sentAt: number }>;
  settleMs: number;
  schedule: <T>(label: string, apply: () => T) => Promise<T>;
}

export class ModelLogIndex implements LogIndex {
  readonly partitions: Map<string, Map<number, IndexEntry>>;
  readonly counters: Map<string, CounterState>;
  /** `shared`: the state of another model index, seen through this one's world (its own scheduling rules). */
  constructor(
    private readonly world: World,
    shared?: ModelLogIndex,
  ) {
    this.partitions = shared?.partitions ?? new Map();
    this.counters = shared?.counters ?? new Map();
  }
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
  reserve(p: PartitionRef, count: number) {
    return this.world.schedule('index.reserve', (): Reservation | undefined => {
      const counter = this.counters.get(partitionKey(p));
      return counter && takeReservation(counter, count);
    });
  }
  initCounter(p: PartitionRef, counter: OffsetCounter) {
    return this.world.schedule('index.initCounter', () => {
      if (this.counters.has(partitionKey(p))) return false;
      this.counters.set(partitionKey(p), { ...clone(counter), floor: 0 });
      return true;
    });
  }
  readCounter(p: PartitionRef) {
    return this.world.schedule('index.readCounter', () => clone(this.counters.get(partitionKey(p))));
  }
  removeCounter(p: PartitionRef) {
    return this.world.schedule('index.removeCounter', () => {
      this.counters.delete(partitionKey(p));
    });
  }
  raiseFloor(p: PartitionRef, offset: number) {
    return this.world.schedule('index.raiseFloor', () => {
      const counter = this.counters.get(partitionKey(p));
      if (counter) counter.floor = Math.max(counter.floor, offset);
    });
  }
  // Compaction's calls (not made by the produce protocol), with the adapter's conditions.
  replace(p: PartitionRef, expected: IndexEntry, next: IndexEntry) {
    return this.world.schedule('index.replace', () => {
      const m = this.entries(p);
      const stored = m.get(expected.baseOffset);
      if (!stored || !isSameEntry(stored, expected)) return false;
      m.set(expected.baseOffset, clone(next));
      return true;
    });
  }
  remove(p: PartitionRef, expected: IndexEntry) {
    return this.world.schedule('index.remove', () => {
      const m = this.entries(p);
      const stored = m.get(expected.baseOffset);
      if (!stored || !isSameEntry(stored, expected)) return false;
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
export class ModelIdempotencyStore implements IdempotencyStore {
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

/** A world whose calls land at once, in call order, at the time `now` holds. */
export const immediateWorld = (): World => ({
  now: 0,
  inFlight: new Set(),
  settleMs: 0,
  schedule: async (_label, apply) => apply(),
});
