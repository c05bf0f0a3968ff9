import { PortError } from '#shared/domain/errors';

/**
 * Dedupe state of idempotent produce requests: one claim per `Idempotency-Key` (scoped to
 * the tenant) and one per producer sequence (scoped to tenant, topic and producerId).
 * docs/exactly-once.md has the protocol, its timeline and every crash point.
 *
 * A claim is created `pending` by exactly one attempt (conditional write), holds a lease,
 * and is completed (`done`) by the attempt that holds it. An attempt whose lease expired
 * can be replaced by another one (conditional on the old attempt id: fencing).
 */

/** Which claim: an idempotency key, or one sequence of one producer. */
export type ClaimRef =
  | { kind: 'key'; tenantId: string; key: string }
  | { kind: 'sequence'; tenantId: string; topicId: string; producerId: string; sequence: number };

/** Where one partition's batch of the request was committed. */
export interface CommittedBatch {
  baseOffset: number;
  appendTime: number;
}

export interface Claim {
  /** SHA-256 of method, path and canonical body: a retry must match it. */
  requestHash: string;
  /** Tags the request's index entries; also seeds the sticky partition of keyless records. */
  writerId: string;
  /** The attempt that holds the lease (fencing token). */
  attemptId: string;
  /** The holder sends no append after `leaseUntil - settle margin`; after it, others may take over. */
  leaseUntil: number;
  topicId: string;
  /** Partition count the request was planned with (a topic may grow in between). */
  partitionCount: number;
  /** Per partition, the high watermark read before the claim: the request's entries lie at or above it. */
  hints: Record<number, number>;
  state: 'pending' | 'done';
  /** When done: where every partition's batch was committed. */
  committed?: Record<number, CommittedBatch>;
}

/** The state of a producer: its last claimed sequence and its last few claims. */
export interface ProducerState {
  lastSequence: number;
  /** Claims of the last PRODUCER_WINDOW sequences, by sequence. */
  claims: Record<number, Claim>;
}

/** The claim exists already (for keys), carrying the one found (Powertools' pattern). */
export class ClaimExistsError extends PortError {
  constructor(readonly existing: Claim) {
    super('claim_exists', 'An idempotency claim exists already');
  }
}

/** The producer's state did not allow this sequence; carries the state found (undefined: no producer). */
export class SequenceRejectedError extends PortError {
  constructor(readonly state: ProducerState | undefined) {
    super('sequence_rejected', 'The sequence is not the next one of the producer');
  }
}

/** Another attempt holds the claim now (or it is gone); carries what was found. */
export class ClaimFencedError extends PortError {
  constructor(readonly current: Claim | undefined) {
    super('claim_fenced', 'The claim is held by another attempt');
  }
}

export interface IdempotencyStore {
  /** The live claim (expired ones read as absent). */
  get(ref: ClaimRef, now: number): Promise<Claim | undefined>;
  /** The live producer state (expired reads as absent). */
  getProducer(tenantId: string, topicId: string, producerId: string, now: number): Promise<ProducerState | undefined>;
  /**
   * Creates the claim. Keys: when absent or expired, else {@link ClaimExistsError}.
   * Sequences: when `sequence` is 0 and the producer is absent or expired, or it is
   * `lastSequence + 1`; else {@link SequenceRejectedError}. A write applied but not
   * acknowledged and then retried is recognised by its attempt id and succeeds.
   */
  create(ref: ClaimRef, claim: Claim, now: number, expiresAt: number): Promise<void>;
  /** Replaces the holder `oldAttemptId` by `attemptId` with a new lease, else {@link ClaimFencedError}. */
  takeOver(ref: ClaimRef, oldAttemptId: string, attemptId: string, leaseUntil: number): Promise<void>;
  /** Shortens the holder's lease (it gave up early), else {@link ClaimFencedError}. */
  release(ref: ClaimRef, attemptId: string, leaseUntil: number): Promise<void>;
  /** Marks the claim done with its result if `attemptId` still holds it, else {@link ClaimFencedError}. */
  complete(ref: ClaimRef, attemptId: string, committed: Record<number, CommittedBatch>): Promise<void>;
}
