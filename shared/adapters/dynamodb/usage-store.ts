import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { UsageDirection, UsageStore, UsageTotals } from '#shared/ports/usage-store';
import { sendConditional } from './conditional';
import { tenantPk, USAGE_SK_PREFIX, usageShardKey } from './keys';
import { queryAll } from './query-all';

/** Rounds through the two writes below before giving up (only if the window keeps moving). */
const ADD_ROUNDS = 4;

/**
 * Usage shards in the metadata table, rewritten in place (no item per window, so nothing
 * piles up and nothing needs TTL):
 *
 *   pk TENANT#<id>   sk USAGE#produce#<nn>   { window: <epoch s>, bytes, storedBytes }
 *   pk TENANT#<id>   sk USAGE#fetch#<nn>     { window: <epoch s>, bytes }
 *
 * `storedBytes` only grows here; the maintenance job subtracts what it removes from one
 * existing shard (`ADD storedBytes :minus`): only the sum over the shards means anything.
 */
export class DynamoDbUsageStore implements UsageStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async read(tenantId: string, window: number): Promise<UsageTotals> {
    const items = await queryAll(this.client, this.tableName, {
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :usage)',
      ExpressionAttributeValues: { ':pk': tenantPk(tenantId), ':usage': USAGE_SK_PREFIX },
      ConsistentRead: true,
    });
    const totals: UsageTotals = { produceBytes: 0, fetchBytes: 0, storedBytes: 0 };
    for (const item of items) {
      totals.storedBytes += Number(item.storedBytes ?? 0);
      if (Number(item.window) !== window) continue;
      if (String(item.sk).startsWith(`${USAGE_SK_PREFIX}produce#`)) totals.produceBytes += Number(item.bytes ?? 0);
      else totals.fetchBytes += Number(item.bytes ?? 0);
    }
    return totals;
  }

  /*
   * One conditional write in the steady state: add to the shard's window when it is `window`
   * or newer; else start window `window` on it (the shard's first write of the second: 2 calls).
   */
  async add(
    tenantId: string,
    direction: UsageDirection,
    shard: number,
    window: number,
    bytes: number,
    opensWindow = false,
  ) {
    const Key = usageShardKey(tenantId, direction, shard);
    const stored = direction === 'produce' ? ', storedBytes = if_not_exists(storedBytes, :zero) + :n' : '';
    const values = direction === 'produce' ? { ':n': bytes, ':w': window, ':zero': 0 } : { ':n': bytes, ':w': window };
    const names = { '#window': 'window', '#bytes': 'bytes' };
    const addToWindow = () =>
      sendConditional(
        this.client,
        new UpdateCommand({
          TableName: this.tableName,
          Key,
          UpdateExpression: `SET #bytes = #bytes + :n${stored}`,
          ConditionExpression: '#window >= :w',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    const openWindow = () =>
      sendConditional(
        this.client,
        new UpdateCommand({
          TableName: this.tableName,
          Key,
          UpdateExpression: `SET #window = :w, #bytes = :n${stored}`,
          ConditionExpression: 'attribute_not_exists(#window) OR #window < :w',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    // Whichever form the caller expects to succeed goes first; the other follows only when
    // another writer moved the shard's window between the two.
    const [first, second] = opensWindow ? [openWindow, addToWindow] : [addToWindow, openWindow];
    for (let round = 0; round < ADD_ROUNDS; round++) {
      if (await first()) return;
      if (await second()) return;
    }
  }
}
