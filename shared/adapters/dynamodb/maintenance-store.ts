import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { DeletedTopic, MaintenanceStore, TopicProgress } from '#shared/ports/maintenance-store';
import { sendConditional } from './conditional';
import {
  API_KEY_SK,
  apiKeyPk,
  DELETED_TENANTS_PK,
  DELETED_TOPICS_PK,
  deletedTopicSk,
  KEY_SK_PREFIX,
  tenantPk,
  tenantSk,
  USAGE_SK_PREFIX,
} from './keys';
import { queryPages } from './query-all';

/**
 * The maintenance job's items in the metadata table:
 *
 *   pk                 sk                          item
 *   MAINTENANCE        LEASE                       owner, expiresAt, cursor
 *   MAINTENANCE        TOPIC#<tenantId>#<topicId>  TopicProgress
 *   DELETED_TOPICS     <tenantId>#<topicId>        DeletedTopic (written by DynamoDbMetadataStore.deleteTopic)
 *   DELETED_TENANTS    TENANT#<tenantId>           written by tenant deletion (metadata-store.ts); removed here last
 */
export const MAINTENANCE_PK = 'MAINTENANCE';
const progressSk = (tenantId: string, topicId: string) => `TOPIC#${tenantId}#${topicId}`;

export class DynamoDbMaintenanceStore implements MaintenanceStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async acquireLease(owner: string, now: number, durationMs: number) {
    const result = await sendConditional(
      this.client,
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: MAINTENANCE_PK, sk: 'LEASE' },
        UpdateExpression: 'SET #owner = :owner, expiresAt = :expires',
        // Free, expired, or ours (a retry of our own acquire).
        ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now OR #owner = :owner',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: { ':owner': owner, ':expires': now + durationMs, ':now': now },
        ReturnValues: 'ALL_NEW',
      }),
    );
    if (!result) return undefined;
    const cursor = result.Attributes?.cursor;
    return { cursor: typeof cursor === 'string' ? cursor : undefined };
  }

  async releaseLease(owner: string, cursor: string | undefined) {
    // A failed condition: the lease expired and another run took it, so its cursor wins.
    await sendConditional(
      this.client,
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: MAINTENANCE_PK, sk: 'LEASE' },
        UpdateExpression:
          cursor === undefined ? 'SET expiresAt = :zero REMOVE #cursor' : 'SET expiresAt = :zero, #cursor = :cursor',
        ConditionExpression: '#owner = :owner',
        ExpressionAttributeNames: { '#owner': 'owner', '#cursor': 'cursor' },
        ExpressionAttributeValues: {
          ':owner': owner,
          ':zero': 0,
          ...(cursor === undefined ? {} : { ':cursor': cursor }),
        },
      }),
    );
  }

  async getProgress(tenantId: string, topicId: string): Promise<TopicProgress | undefined> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: MAINTENANCE_PK, sk: progressSk(tenantId, topicId) } }),
    );
    if (!result.Item) return undefined;
    const { retentionMs, settledThrough, orphansSweptAt } = result.Item;
    return { retentionMs, settledThrough: settledThrough ?? {}, orphansSweptAt: orphansSweptAt ?? 0 };
  }

  async putProgress(tenantId: string, topicId: string, progress: TopicProgress) {
    // Last writer wins: every checkpoint a run computes is true of the index, so a lower one only costs a rescan.
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: MAINTENANCE_PK, sk: progressSk(tenantId, topicId), ...progress },
      }),
    );
  }

  async deleteProgress(tenantId: string, topicId: string) {
    await this.client.send(
      new DeleteCommand({ TableName: this.tableName, Key: { pk: MAINTENANCE_PK, sk: progressSk(tenantId, topicId) } }),
    );
  }

  async listDeletedTopics(limit: number): Promise<DeletedTopic[]> {
    const result = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': DELETED_TOPICS_PK },
        Limit: limit,
      }),
    );
    return (result.Items ?? []).map((item) => ({
      tenantId: item.tenantId,
      topicId: item.topicId,
      name: item.name,
      partitions: item.partitions,
      deletedAt: item.deletedAt,
    }));
  }

  async forgetDeletedTopic(topic: DeletedTopic) {
    await this.client.send(
      new DeleteCommand({
        TableName: this.tableName,
        Key: { pk: DELETED_TOPICS_PK, sk: deletedTopicSk(topic.tenantId, topic.topicId) },
      }),
    );
  }

  async purgeTenantItems(tenantId: string): Promise<number> {
    let deleted = 0;
    const pages = queryPages(this.client, this.tableName, {
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': tenantPk(tenantId) },
    });
    // Each page's items are deleted before the next page is read.
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        const sk = String(item.sk);
        // A key's lookup item goes before its list entry (the order key revocation uses).
        if (sk.startsWith(KEY_SK_PREFIX)) {
          await this.client.send(
            new DeleteCommand({
              TableName: this.tableName,
              Key: { pk: apiKeyPk(sk.slice(KEY_SK_PREFIX.length)), sk: API_KEY_SK },
            }),
          );
        }
        await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: { pk: item.pk, sk: item.sk } }));
        deleted += 1;
      }
    }
    return deleted;
  }

  async releaseStoredBytes(tenantId: string, bytes: number) {
    // Only the sum over the produce usage shards (usage-store.ts) counts: subtract from the
    // first that exists. None is ever created here (a purged tenant must stay purged).
    const { Items: shards = [] } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :produce)',
        ExpressionAttributeValues: { ':pk': tenantPk(tenantId), ':produce': `${USAGE_SK_PREFIX}produce#` },
        ProjectionExpression: 'pk, sk',
        Limit: 1,
      }),
    );
    const shard = shards[0];
    if (!shard) return;
    await sendConditional(
      this.client,
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: shard.pk, sk: shard.sk },
        UpdateExpression: 'ADD storedBytes :minus',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':minus': -bytes },
      }),
    );
  }

  async forgetDeletedTenant(tenantId: string) {
    await this.client.send(
      new DeleteCommand({ TableName: this.tableName, Key: { pk: DELETED_TENANTS_PK, sk: tenantSk(tenantId) } }),
    );
  }
}
