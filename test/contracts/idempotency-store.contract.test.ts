import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRODUCER_SEQUENCE_WINDOW } from '#shared/constants';
import {
  type Claim,
  ClaimExistsError,
  ClaimFencedError,
  type ClaimRef,
  type IdempotencyStore,
  SequenceRejectedError,
} from '#shared/ports/idempotency-store';
import { type Stack, startStack } from '../harness';
import { immediateWorld, ModelIdempotencyStore } from '../model/model-ports';

/**
 * The IdempotencyStore port's contract, run against the DynamoDB adapter (on dynalite)
 * and the in-memory model the exactly-once model check runs on: the model check proves
 * the protocol only as far as the model behaves like the adapter.
 */
let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

const implementations: [string, () => IdempotencyStore][] = [
  ['DynamoDbIdempotencyStore (dynalite)', () => stack.deps.idempotency],
  ['ModelIdempotencyStore (exactly-once model check)', () => new ModelIdempotencyStore(immediateWorld())],
];

const NOW = 1_000_000;
const EXPIRES = NOW + 86_400_000;

let refs = 0;
const keyRef = (): ClaimRef => ({ kind: 'key', tenantId: 'contract', key: `k${refs++}` });
const sequenceRef = (producerId: string, sequence: number): ClaimRef => ({
  kind: 'sequence',
  tenantId: 'contract',
  topicId: 'topic',
  producerId,
  sequence,
});

const claim = (attemptId: string, extra: Partial<Claim> = {}): Claim => ({
  requestHash: 'hash',
  writerId: `i.${attemptId}`,
  attemptId,
  leaseUntil: NOW + 30_000,
  topicId: 'topic',
  partitionCount: 3,
  hints: { 0: 5, 2: 7 },
  state: 'pending',
  ...extra,
});

describe.each(implementations)('IdempotencyStore contract: %s', (_name, make) => {
  let store: IdempotencyStore;
  beforeAll(() => {
    store = make();
  });

  it('creates a key claim once; another attempt finds it, a retried create of the same attempt succeeds', async () => {
    const ref = keyRef();
    expect(await store.get(ref, NOW)).toBeUndefined();
    await store.create(ref, claim('a1'), NOW, EXPIRES);
    expect(await store.get(ref, NOW)).toEqual(claim('a1'));
    const refused = store.create(ref, claim('a2'), NOW, EXPIRES);
    await expect(refused).rejects.toBeInstanceOf(ClaimExistsError);
    await expect(store.create(ref, claim('a2'), NOW, EXPIRES)).rejects.toMatchObject({
      code: 'claim_exists',
      existing: claim('a1'),
    });
    // A write applied but not acknowledged, retried: recognised by its attempt id.
    await store.create(ref, claim('a1'), NOW, EXPIRES);
    expect((await store.get(ref, NOW))?.attemptId).toBe('a1');
  });

  it('reads an expired claim as absent and lets a new one replace it', async () => {
    const ref = keyRef();
    await store.create(ref, claim('old'), NOW, NOW + 10);
    expect(await store.get(ref, NOW + 11)).toBeUndefined();
    await store.create(ref, claim('new'), NOW + 11, EXPIRES);
    expect((await store.get(ref, NOW + 11))?.attemptId).toBe('new');
  });

  it('takes producer sequences in order only, and keeps the last few claims', async () => {
    const producer = `p${refs++}`;
    expect(await store.getProducer('contract', 'topic', producer, NOW)).toBeUndefined();
    await expect(store.create(sequenceRef(producer, 1), claim('s1'), NOW, EXPIRES)).rejects.toBeInstanceOf(
      SequenceRejectedError,
    );
    await store.create(sequenceRef(producer, 0), claim('s0'), NOW, EXPIRES);
    // A gap is refused with the state found.
    await expect(store.create(sequenceRef(producer, 2), claim('s2'), NOW, EXPIRES)).rejects.toMatchObject({
      code: 'sequence_rejected',
      state: { lastSequence: 0 },
    });
    // Sequence 0 again, from another attempt, while the producer lives: refused.
    await expect(store.create(sequenceRef(producer, 0), claim('again'), NOW, EXPIRES)).rejects.toBeInstanceOf(
      SequenceRejectedError,
    );
    // The same attempt's retried create is recognised.
    await store.create(sequenceRef(producer, 0), claim('s0'), NOW, EXPIRES);
    const last = PRODUCER_SEQUENCE_WINDOW + 1;
    for (let sequence = 1; sequence <= last; sequence++) {
      await store.create(sequenceRef(producer, sequence), claim(`s${sequence}`), NOW, EXPIRES);
    }
    const state = await store.getProducer('contract', 'topic', producer, NOW);
    expect(state?.lastSequence).toBe(last);
    const kept = Object.keys(state?.claims ?? {})
      .map(Number)
      .sort((a, b) => a - b);
    expect(kept).toEqual(
      Array.from({ length: PRODUCER_SEQUENCE_WINDOW }, (_, i) => last - PRODUCER_SEQUENCE_WINDOW + 1 + i),
    );
    expect(await store.get(sequenceRef(producer, last), NOW)).toEqual(claim(`s${last}`));
    expect(await store.get(sequenceRef(producer, 0), NOW)).toBeUndefined();
    // An expired producer starts over at 0.
    await store.create(sequenceRef(producer, 0), claim('fresh'), EXPIRES + 1, EXPIRES + 100);
    expect((await store.getProducer('contract', 'topic', producer, EXPIRES + 1))?.lastSequence).toBe(0);
  });

  it.each([
    ['key', keyRef],
    ['sequence', () => sequenceRef(`t${refs++}`, 0)],
  ] as const)('fences by attempt id: take over, release, complete (%s claims)', async (_kind, makeRef) => {
    const ref = makeRef();
    await store.create(ref, claim('first'), NOW, EXPIRES);
    // Only the holder's id takes over; a retried takeover (already ours) succeeds.
    await expect(store.takeOver(ref, 'nobody', 'second', NOW + 60_000)).rejects.toBeInstanceOf(ClaimFencedError);
    await store.takeOver(ref, 'first', 'second', NOW + 60_000);
    await store.takeOver(ref, 'first', 'second', NOW + 60_000);
    expect(await store.get(ref, NOW)).toMatchObject({
      attemptId: 'second',
      leaseUntil: NOW + 60_000,
      state: 'pending',
    });
    // The old holder is fenced everywhere, and the error carries the claim found.
    await expect(store.release(ref, 'first', NOW)).rejects.toMatchObject({
      code: 'claim_fenced',
      current: { attemptId: 'second' },
    });
    await expect(store.complete(ref, 'first', { 0: { baseOffset: 5, appendTime: 9 } })).rejects.toBeInstanceOf(
      ClaimFencedError,
    );
    // The holder releases early (a shorter lease), then completes; completing again is fine.
    await store.release(ref, 'second', NOW + 1_000);
    expect((await store.get(ref, NOW))?.leaseUntil).toBe(NOW + 1_000);
    const committed = { 0: { baseOffset: 5, appendTime: 9 }, 2: { baseOffset: 7, appendTime: 9 } };
    await store.complete(ref, 'second', committed);
    await store.complete(ref, 'second', committed);
    expect(await store.get(ref, NOW)).toMatchObject({ attemptId: 'second', state: 'done', committed });
    // A done claim is never taken over.
    await expect(store.takeOver(ref, 'second', 'third', NOW + 90_000)).rejects.toBeInstanceOf(ClaimFencedError);
  });

  it('fences updates of a claim that does not exist', async () => {
    const ref = keyRef();
    await expect(store.takeOver(ref, 'a', 'b', NOW)).rejects.toMatchObject({
      code: 'claim_fenced',
      current: undefined,
    });
    await expect(store.complete(ref, 'a', {})).rejects.toBeInstanceOf(ClaimFencedError);
  });
});
