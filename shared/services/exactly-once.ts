import { createHash, randomBytes } from 'node:crypto';
import { DEFAULT_EXACTLY_ONCE_TIMING, type ExactlyOnceTiming, IDEMPOTENCY_RETENTION_MS } from '#shared/constants';
import { RunnelError, unavailable } from '#shared/domain/errors';
import {
  type Claim,
  ClaimExistsError,
  ClaimFencedError,
  type ClaimRef,
  type CommittedBatch,
  type IdempotencyStore,
  SequenceRejectedError,
} from '#shared/ports/idempotency-store';
import { batchAppendTime, batchOfWriter, entryEnd, IDEMPOTENT_WRITER_PREFIX } from '#shared/ports/log-index';
import type { Topic } from '#shared/ports/metadata-store';
import { LeaseExpiredError, type PartitionLog } from './partition-log';
import { type ProducedOffset, type ProduceInput, type ProduceOptions, ProduceService } from './produce';

/** How a produce request identifies itself for deduplication. */
export type Idempotency = { kind: 'key'; key: string } | { kind: 'sequence'; producerId: string; sequence: number };

/** How an exactly-once request was answered. */
export type ExactlyOnceOutcome = 'appended' | 'replayed' | 'recovered';

export interface ExactlyOnceResult {
  offsets: ProducedOffset[];
  outcome: ExactlyOnceOutcome;
}

/** Points of the protocol where tests may stop a writer (docs/exactly-once.md, crash points). */
export type ProtocolStep = 'claimed' | 'took-over' | 'appended' | 'completed';

export interface ExactlyOnceOptions {
  /** @default DEFAULT_EXACTLY_ONCE_TIMING */
  timing?: ExactlyOnceTiming;
  /** @default 18 random bytes, base64url */
  newId?: () => string;
  /** Called after each protocol step; a test may never resolve it to model a crash there. */
  afterStep?: (step: ProtocolStep) => Promise<void> | void;
}

/** A deterministic number in [0, 1) from a writer id: a takeover plans keyless records as the first attempt did. */
export const seededRandom = (writerId: string) => () =>
  createHash('sha256').update(writerId).digest().readUInt32BE(0) / 2 ** 32;

export { requestHash } from './request-hash';

const inProgress = (retryAfterMs: number) =>
  new RunnelError(
    'idempotency_in_progress',
    'An earlier attempt of this request is still running; retry after the indicated time.',
    { retryAfterMs: Math.max(0, Math.ceil(retryAfterMs)) },
  );

const reused = (idempotency: Idempotency) =>
  new RunnelError(
    'idempotency_key_reused',
    idempotency.kind === 'key'
      ? 'This Idempotency-Key was used with a different request (method, path or body).'
      : `Sequence ${idempotency.sequence} of producer '${idempotency.producerId}' was used with a different request.`,
  );

const outOfOrder = (expectedSequence: number, sequence: number) =>
  new RunnelError(
    'out_of_order_sequence',
    `Sequence ${sequence} does not follow the producer's last one; the next expected is ${expectedSequence}.`,
    { expectedSequence },
  );

const duplicateSequence = (sequence: number, lastSequence: number) =>
  new RunnelError(
    'duplicate_sequence',
    `Sequence ${sequence} was produced already and is too old to be answered again (last sequence ${lastSequence}).`,
    { lastSequence },
  );

/**
 * Exactly-once produce over the idempotency store and the partition log. The protocol,
 * its timeline and every crash point are in docs/exactly-once.md. In short:
 *
 *   1. plan the request (partitions; keyless records seeded by the writer id), read each
 *      partition's high watermark (the recovery hints);
 *   2. create the claim `pending` with a lease (one conditional write);
 *   3. produce, every index entry tagged with the writer id, no append sent after the
 *      lease's deadline (lease end minus the settle margin);
 *   4. complete the claim `done` with where each partition's batch went.
 *
 * A retry finds the claim: done → the first answer, rebuilt from the claim; pending with
 * a live lease → 409 in progress; pending with an expired lease → take over (conditional
 * on the old attempt id), find the earlier attempt's entries by writer id from the hints,
 * append only the partitions that have none, complete.
 */
export class ExactlyOnceProducer {
  private readonly timing: ExactlyOnceTiming;
  private readonly newId: () => string;

  constructor(
    private readonly producer: ProduceService,
    private readonly log: PartitionLog,
    private readonly store: IdempotencyStore,
    private readonly clock: () => number,
    private readonly options: ExactlyOnceOptions = {},
  ) {
    this.timing = options.timing ?? DEFAULT_EXACTLY_ONCE_TIMING;
    if (this.timing.settleMs >= this.timing.leaseMs) throw new Error('settleMs must be shorter than leaseMs');
    this.newId = options.newId ?? (() => randomBytes(18).toString('base64url'));
  }

  static refOf(topic: Topic, idempotency: Idempotency): ClaimRef {
    return idempotency.kind === 'key'
      ? { kind: 'key', tenantId: topic.tenantId, key: idempotency.key }
      : {
          kind: 'sequence',
          tenantId: topic.tenantId,
          topicId: topic.topicId,
          producerId: idempotency.producerId,
          sequence: idempotency.sequence,
        };
  }

  async produce(
    topic: Topic,
    records: readonly ProduceInput[],
    idempotency: Idempotency,
    hash: string,
    options: ProduceOptions,
  ): Promise<ExactlyOnceResult> {
    ProduceService.checkLimits(records, options.limits);
    const ref = ExactlyOnceProducer.refOf(topic, idempotency);
    // A lost race to create the claim is answered by looking again: at most a few rounds.
    for (let round = 0; round < 3; round++) {
      const existing = await this.existingClaim(ref);
      if (existing) return this.retry(topic, records, ref, idempotency, existing, hash, options);
      try {
        return await this.first(topic, records, ref, hash, options);
      } catch (error) {
        if (error instanceof ClaimExistsError || error instanceof SequenceRejectedError) continue;
        throw error;
      }
    }
    throw inProgress(1000);
  }

  /** The claim a retry must honour, undefined when this request is new; throws on sequence errors. */
  private async existingClaim(ref: ClaimRef): Promise<Claim | undefined> {
    const now = this.clock();
    if (ref.kind === 'key') return this.store.get(ref, now);
    const { sequence } = ref;
    const state = await this.store.getProducer(ref.tenantId, ref.topicId, ref.producerId, now);
    if (!state) {
      if (sequence !== 0) throw outOfOrder(0, sequence);
      return undefined;
    }
    if (sequence === state.lastSequence + 1) return undefined;
    if (sequence > state.lastSequence + 1) throw outOfOrder(state.lastSequence + 1, sequence);
    const claim = state.claims[sequence];
    if (!claim) throw duplicateSequence(sequence, state.lastSequence);
    return claim;
  }

  /** Produce options of an attempt holding `claim`: its writer id and plan, no append past its lease's deadline. */
  private planOptions(claim: Claim, options: ProduceOptions): ProduceOptions {
    return {
      ...options,
      writerId: claim.writerId,
      random: seededRandom(claim.writerId),
      partitionCount: claim.partitionCount,
      deadline: claim.leaseUntil - this.timing.settleMs,
    };
  }

  /** The first attempt: hints, claim, produce, complete. */
  private async first(
    topic: Topic,
    records: readonly ProduceInput[],
    ref: ClaimRef,
    hash: string,
    options: ProduceOptions,
  ): Promise<ExactlyOnceResult> {
    const writerId = `${IDEMPOTENT_WRITER_PREFIX}${this.newId()}`;
    const partitionOf = ProduceService.assignPartitions(topic, records, seededRandom(writerId));
    const partitions = [...new Set(partitionOf)];
    const watermarks = await Promise.all(
      partitions.map((partition) =>
        this.log.highWatermark({ tenantId: topic.tenantId, topicId: topic.topicId, partition }),
      ),
    );
    const hints: Record<number, number> = {};
    partitions.forEach((p, i) => {
      hints[p] = watermarks[i] as number;
    });
    const now = this.clock();
    const claim: Claim = {
      requestHash: hash,
      writerId,
      attemptId: this.newId(),
      leaseUntil: now + this.timing.leaseMs,
      topicId: topic.topicId,
      partitionCount: topic.partitions,
      hints,
      state: 'pending',
    };
    await this.store.create(ref, claim, now, now + IDEMPOTENCY_RETENTION_MS);
    await this.options.afterStep?.('claimed');
    const offsets = await this.attempt(topic, records, ref, claim, new Map(), options);
    return { offsets, outcome: 'appended' };
  }

  /** A retry of a known request: replay, refuse, wait, or take over and recover. */
  private async retry(
    topic: Topic,
    records: readonly ProduceInput[],
    ref: ClaimRef,
    idempotency: Idempotency,
    claim: Claim,
    hash: string,
    options: ProduceOptions,
  ): Promise<ExactlyOnceResult> {
    if (claim.requestHash !== hash) throw reused(idempotency);
    if (claim.state === 'done') return { offsets: this.replay(topic, records, claim), outcome: 'replayed' };
    const now = this.clock();
    if (claim.leaseUntil > now) throw inProgress(claim.leaseUntil - now);

    // The holder's lease is over: it sends no more appends and all it sent have landed.
    const attemptId = this.newId();
    const leaseUntil = now + this.timing.leaseMs;
    try {
      await this.store.takeOver(ref, claim.attemptId, attemptId, leaseUntil);
    } catch (error) {
      if (!(error instanceof ClaimFencedError)) throw error;
      if (error.current?.state === 'done') {
        return { offsets: this.replay(topic, records, error.current), outcome: 'replayed' };
      }
      throw inProgress(Math.max(1000, (error.current?.leaseUntil ?? now) - now));
    }
    const ours: Claim = { ...claim, attemptId, leaseUntil };
    await this.options.afterStep?.('took-over');
    const incarnation = { ...topic, topicId: claim.topicId };
    const found = await this.findCommitted(incarnation, ours);
    const offsets = await this.attempt(incarnation, records, ref, ours, found, options);
    return { offsets, outcome: 'recovered' };
  }

  private replay(topic: Topic, records: readonly ProduceInput[], claim: Claim): ProducedOffset[] {
    const partitionOf = ProduceService.assignPartitions(
      { ...topic, partitions: claim.partitionCount },
      records,
      seededRandom(claim.writerId),
    );
    const committed = new Map(Object.entries(claim.committed ?? {}).map(([p, b]) => [Number(p), b]));
    return ProduceService.offsetsOf(records, partitionOf, committed);
  }

  /**
   * The earlier attempts' entries: the first entry holding the writer id at or above each
   * hint. Compaction may have folded it into an entry that starts below the hint, so the
   * search starts at the entry covering the hint.
   */
  private async findCommitted(topic: Topic, claim: Claim): Promise<Map<number, CommittedBatch>> {
    const found = new Map<number, CommittedBatch>();
    await Promise.all(
      Object.entries(claim.hints).map(async ([p, hint]) => {
        const partition = { tenantId: topic.tenantId, topicId: topic.topicId, partition: Number(p) };
        const covering = await this.log.entryAtOrBefore(partition, hint);
        const from = covering && entryEnd(covering) > hint ? covering.baseOffset : hint;
        for await (const entry of this.log.scan(partition, from)) {
          const baseOffset = batchOfWriter(entry, claim.writerId);
          if (baseOffset === undefined) continue;
          found.set(Number(p), { baseOffset, appendTime: batchAppendTime(entry, baseOffset) });
          return;
        }
      }),
    );
    return found;
  }

  /** Produces what is not committed yet under the attempt's lease, then completes the claim. */
  private async attempt(
    topic: Topic,
    records: readonly ProduceInput[],
    ref: ClaimRef,
    claim: Claim,
    found: Map<number, CommittedBatch>,
    options: ProduceOptions,
  ): Promise<ProducedOffset[]> {
    let result: Awaited<ReturnType<ProduceService['produce']>>;
    try {
      result = await this.producer.produce(topic, records, {
        ...this.planOptions(claim, options),
        committed: found,
      });
    } catch (error) {
      // Early release: every append of this attempt has settled (produce waits for all),
      // so another attempt may take over once a call abandoned by a timeout can no longer land.
      await this.store.release(ref, claim.attemptId, this.clock() + this.timing.settleMs).catch(() => {});
      if (error instanceof LeaseExpiredError) {
        throw unavailable('The request ran out of time; retry it with the same idempotency key or sequence.', 1, error);
      }
      throw error;
    }
    await this.options.afterStep?.('appended');
    const committed: Record<number, CommittedBatch> = {};
    for (const [p, b] of result.committed) committed[p] = b;
    try {
      await this.store.complete(ref, claim.attemptId, committed);
    } catch (error) {
      // Fenced: our lease ran out after our last append and another attempt took over; it
      // finds every entry we wrote (all landed before our lease ended), so our answer stands.
      if (!(error instanceof ClaimFencedError)) throw error;
    }
    await this.options.afterStep?.('completed');
    return result.offsets;
  }
}
