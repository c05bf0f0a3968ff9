import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ProduceAdmission, UsageStore } from '#shared/ports/usage-store';
import { sendConditional } from './conditional';
import { usageKey } from './keys';

/** Rounds through the three steps below before a produce is refused (only under extreme contention on the item). */
const ADMIT_ROUNDS = 6;

/**
 * Usage items in the metadata table, one per tenant and direction, rewritten in place
 * (no item per window, so nothing piles up and nothing needs TTL):
 *
 *   pk TENANT#<id>   sk USAGE#produce   { window: <epoch s>, bytes, storedBytes }
 *   pk TENANT#<id>   sk USAGE#fetch     { window: <epoch s>, bytes }
 *
 * `storedBytes` only grows here; the maintenance job subtracts what it removes
 * (`ADD storedBytes :minus`), see docs/security.md.
 */
export class DynamoDbUsageStore implements UsageStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private async conditional(input: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName'>) {
    return sendConditional(this.client, new UpdateCommand({ ...input, TableName: this.tableName }));
  }

  /*
   * Timeline of one admission (each step one conditional single-item write):
   *   1. item's window is w or later, under the rate and storage limits -> add
   *      (steady state: 1 call; a request whose clock or call lags counts into the newer window)
   *   2. else: the item's window is older than w (or absent)            -> start window w
   *      (once per second per tenant: 2 calls)
   *   3. else: read the item to tell rate from storage; if neither is full any more (the
   *      window moved between the writes), go round again.
   * A refused request has changed nothing: both writes failed their condition.
   */
  async admitProduce(
    tenantId: string,
    window: number,
    bytes: number,
    bytesPerWindow: number,
    maxStoredBytes: number,
  ): Promise<ProduceAdmission> {
    const Key = usageKey(tenantId, 'produce');
    const storageOk = '(attribute_not_exists(storedBytes) OR storedBytes < :maxStored)';
    const w = window;
    for (let round = 0; round < ADMIT_ROUNDS; round++) {
      const added = await this.conditional({
        Key,
        UpdateExpression: 'SET #bytes = #bytes + :n, storedBytes = if_not_exists(storedBytes, :zero) + :n',
        ConditionExpression: `#window >= :w AND #bytes < :limit AND ${storageOk}`,
        ExpressionAttributeNames: { '#window': 'window', '#bytes': 'bytes' },
        ExpressionAttributeValues: {
          ':n': bytes,
          ':zero': 0,
          ':w': w,
          ':limit': bytesPerWindow,
          ':maxStored': maxStoredBytes,
        },
      });
      if (added) return { admitted: true };
      const started = await this.conditional({
        Key,
        UpdateExpression: 'SET #window = :w, #bytes = :n, storedBytes = if_not_exists(storedBytes, :zero) + :n',
        ConditionExpression: `(attribute_not_exists(#window) OR #window < :w) AND ${storageOk}`,
        ExpressionAttributeNames: { '#window': 'window', '#bytes': 'bytes' },
        ExpressionAttributeValues: { ':n': bytes, ':zero': 0, ':w': w, ':maxStored': maxStoredBytes },
      });
      if (started) return { admitted: true };
      const item = (await this.client.send(new GetCommand({ TableName: this.tableName, Key, ConsistentRead: true })))
        .Item;
      if (typeof item?.storedBytes === 'number' && item.storedBytes >= maxStoredBytes) {
        return { admitted: false, reason: 'storage' };
      }
      if (typeof item?.window === 'number' && item.window >= w && Number(item.bytes) >= bytesPerWindow) {
        return { admitted: false, reason: 'rate' };
      }
      // The window moved between the writes and this read: go round again.
    }
    return { admitted: false, reason: 'rate' };
  }

  async addFetched(tenantId: string, window: number, bytes: number): Promise<number> {
    const Key = usageKey(tenantId, 'fetch');
    for (let round = 0; round < ADMIT_ROUNDS; round++) {
      const added = await this.conditional({
        Key,
        UpdateExpression: 'SET #bytes = #bytes + :n',
        ConditionExpression: '#window >= :w',
        ExpressionAttributeNames: { '#window': 'window', '#bytes': 'bytes' },
        ExpressionAttributeValues: { ':n': bytes, ':w': window },
        ReturnValues: 'UPDATED_NEW',
      });
      if (added) return Number(added.Attributes?.bytes ?? bytes);
      const started = await this.conditional({
        Key,
        UpdateExpression: 'SET #window = :w, #bytes = :n',
        ConditionExpression: 'attribute_not_exists(#window) OR #window < :w',
        ExpressionAttributeNames: { '#window': 'window', '#bytes': 'bytes' },
        ExpressionAttributeValues: { ':n': bytes, ':w': window },
      });
      if (started) return bytes;
      // Another request started window `window` between the two writes: add to it.
    }
    return bytes;
  }
}
