import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
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
import { isConditionFailure } from './conditional';
import { tenantPk } from './keys';

/**
 * Claims in the metadata table, under the tenant's partition key:
 *
 *   pk            sk                                  item
 *   TENANT#<id>   IDEM#<key>                          { c: claim, expiresAt }
 *   TENANT#<id>   PRODUCER#<topicId>#<producerId>     { lastSequence, r: { <seq>: claim }, expiresAt }
 *
 * There is no TTL (dynalite has none): an item whose `expiresAt` has passed reads as
 * absent and may be overwritten; maintenance may delete it later. Every write is one
 * conditional single-item write. When a write's acknowledgement is lost and the SDK
 * retries it, the retry fails its condition: the adapter then reads the item back and
 * treats it as a success if it carries the caller's attempt id.
 */
const keyOf = (ref: ClaimRef) => ({
  pk: tenantPk(ref.tenantId),
  sk: ref.kind === 'key' ? `IDEM#${ref.key}` : `PRODUCER#${ref.topicId}#${ref.producerId}`,
});

/** Expression path of the claim inside its item, with its attribute names. */
const claimPath = (ref: ClaimRef): { path: string; names: Record<string, string> } =>
  ref.kind === 'key'
    ? { path: '#c', names: { '#c': 'c' } }
    : { path: '#r.#seq', names: { '#r': 'r', '#seq': String(ref.sequence) } };

export class DynamoDbIdempotencyStore implements IdempotencyStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private async item(ref: ClaimRef): Promise<Record<string, unknown> | undefined> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keyOf(ref), ConsistentRead: true }),
    );
    return result.Item;
  }

  private static live(item: Record<string, unknown> | undefined, now: number) {
    return item && typeof item.expiresAt === 'number' && item.expiresAt >= now ? item : undefined;
  }

  private static claimIn(ref: ClaimRef, item: Record<string, unknown> | undefined): Claim | undefined {
    if (!item) return undefined;
    if (ref.kind === 'key') return item.c as Claim | undefined;
    return (item.r as Record<string, Claim> | undefined)?.[String(ref.sequence)];
  }

  private static producerIn(item: Record<string, unknown> | undefined): ProducerState | undefined {
    if (!item) return undefined;
    return { lastSequence: item.lastSequence as number, claims: (item.r ?? {}) as Record<number, Claim> };
  }

  async get(ref: ClaimRef, now: number): Promise<Claim | undefined> {
    return DynamoDbIdempotencyStore.claimIn(ref, DynamoDbIdempotencyStore.live(await this.item(ref), now));
  }

  async getProducer(tenantId: string, topicId: string, producerId: string, now: number) {
    const item = await this.item({ kind: 'sequence', tenantId, topicId, producerId, sequence: 0 });
    return DynamoDbIdempotencyStore.producerIn(DynamoDbIdempotencyStore.live(item, now));
  }

  async create(ref: ClaimRef, claim: Claim, now: number, expiresAt: number): Promise<void> {
    try {
      if (ref.kind === 'key' || ref.sequence === 0) {
        const item =
          ref.kind === 'key'
            ? { ...keyOf(ref), c: claim, expiresAt }
            : { ...keyOf(ref), lastSequence: 0, r: { '0': claim }, expiresAt };
        await this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: item,
            ConditionExpression: 'attribute_not_exists(sk) OR expiresAt < :now',
            ExpressionAttributeValues: { ':now': now },
          }),
        );
      } else {
        // Sequence s claims the slot after s - 1 and drops s - window from the ring, in one write.
        const dropped = ref.sequence - PRODUCER_SEQUENCE_WINDOW;
        await this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: keyOf(ref),
            UpdateExpression: `SET lastSequence = :s, expiresAt = :exp, #r.#seq = :c${dropped >= 0 ? ' REMOVE #r.#old' : ''}`,
            ConditionExpression: 'lastSequence = :prev AND expiresAt >= :now',
            ExpressionAttributeNames: {
              '#r': 'r',
              '#seq': String(ref.sequence),
              ...(dropped >= 0 ? { '#old': String(dropped) } : {}),
            },
            ExpressionAttributeValues: {
              ':s': ref.sequence,
              ':prev': ref.sequence - 1,
              ':exp': expiresAt,
              ':c': claim,
              ':now': now,
            },
          }),
        );
      }
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const item = DynamoDbIdempotencyStore.live(await this.item(ref), now);
      const found = DynamoDbIdempotencyStore.claimIn(ref, item);
      // Our own write, applied once already (its acknowledgement was lost and the SDK retried).
      if (found?.attemptId === claim.attemptId) return;
      if (ref.kind === 'key') {
        if (!found) return this.create(ref, claim, now, expiresAt); // it expired in between
        throw new ClaimExistsError(found);
      }
      throw new SequenceRejectedError(DynamoDbIdempotencyStore.producerIn(item));
    }
  }

  private async updateClaim(
    ref: ClaimRef,
    set: Record<string, unknown>,
    condition: { attemptId: string; pendingOnly: boolean },
    isOurs: (found: Claim) => boolean,
  ): Promise<void> {
    const { path, names } = claimPath(ref);
    const attributeNames: Record<string, string> = { ...names, '#att': 'attemptId' };
    const values: Record<string, unknown> = { ':holder': condition.attemptId };
    const assignments = Object.entries(set).map(([field, value], i) => {
      attributeNames[`#f${i}`] = field;
      values[`:v${i}`] = value;
      return `${path}.#f${i} = :v${i}`;
    });
    let conditionExpression = `${path}.#att = :holder`;
    if (condition.pendingOnly) {
      conditionExpression += ` AND ${path}.#st = :pending`;
      attributeNames['#st'] = 'state';
      values[':pending'] = 'pending';
    }
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keyOf(ref),
          UpdateExpression: `SET ${assignments.join(', ')}`,
          ConditionExpression: conditionExpression,
          ExpressionAttributeNames: attributeNames,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const found = DynamoDbIdempotencyStore.claimIn(ref, await this.item(ref));
      if (found && isOurs(found)) return;
      throw new ClaimFencedError(found);
    }
  }

  takeOver(ref: ClaimRef, oldAttemptId: string, attemptId: string, leaseUntil: number) {
    return this.updateClaim(
      ref,
      { attemptId, leaseUntil },
      { attemptId: oldAttemptId, pendingOnly: true },
      (found) => found.attemptId === attemptId && found.state === 'pending',
    );
  }

  release(ref: ClaimRef, attemptId: string, leaseUntil: number) {
    return this.updateClaim(
      ref,
      { leaseUntil },
      { attemptId, pendingOnly: true },
      (found) => found.attemptId === attemptId && found.leaseUntil === leaseUntil,
    );
  }

  complete(ref: ClaimRef, attemptId: string, committed: Record<number, CommittedBatch>) {
    return this.updateClaim(
      ref,
      { state: 'done', committed },
      { attemptId, pendingOnly: false },
      (found) => found.attemptId === attemptId && found.state === 'done',
    );
  }
}
