import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { ApiKey, MetadataStore, Tenant, Topic } from '#shared/ports/metadata-store';
import { StaleWriteError, TopicExistsError } from '#shared/ports/metadata-store';
import { DELETED_TOPICS_PK, deletedTopicSk } from './maintenance-store';

/**
 * Single-table layout of the metadata table. Every tenant-owned item lives under its
 * tenant's partition key, so a tenant's data can only be reached through its id, and
 * that id comes from the authenticated key alone.
 *
 *   pk                      sk                 item
 *   TENANTS                 TENANT#<id>        tenant
 *   APIKEY#<keyId>          APIKEY             API key (looked up by id on every request)
 *   TENANT#<id>             TOPIC#<name>       topic
 *   DELETED_TOPICS          <id>#<topicId>     tombstone: the topic's data is still to be removed
 *                                              (maintenance-store.ts has the job's items)
 */
const TENANTS_PK = 'TENANTS';
const tenantSk = (tenantId: string) => `TENANT#${tenantId}`;
const apiKeyPk = (keyId: string) => `APIKEY#${keyId}`;
const tenantPk = (tenantId: string) => `TENANT#${tenantId}`;
const topicSk = (name: string) => `TOPIC#${name}`;

const strip = <T>(item: Record<string, unknown>): T => {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest as T;
};

export class DynamoDbMetadataStore implements MetadataStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private async queryAll(input: Omit<QueryCommandInput, 'TableName'>): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(new QueryCommand({ ...input, TableName: this.tableName, ExclusiveStartKey }));
      items.push(...(page.Items ?? []));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return items;
  }

  private async get(pk: string, sk: string): Promise<Record<string, unknown> | undefined> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { pk, sk }, ConsistentRead: true }),
    );
    return result.Item;
  }

  async createTenant(tenant: Tenant): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: TENANTS_PK, sk: tenantSk(tenant.tenantId), ...tenant },
        ConditionExpression: 'attribute_not_exists(sk)',
      }),
    );
  }

  async getTenant(tenantId: string): Promise<Tenant | undefined> {
    const item = await this.get(TENANTS_PK, tenantSk(tenantId));
    return item ? strip<Tenant>(item) : undefined;
  }

  async listTenants(): Promise<Tenant[]> {
    const items = await this.queryAll({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': TENANTS_PK },
    });
    return items.map((item) => strip<Tenant>(item));
  }

  async createApiKey(key: ApiKey): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: apiKeyPk(key.keyId), sk: 'APIKEY', ...key },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async getApiKey(keyId: string): Promise<ApiKey | undefined> {
    const item = await this.get(apiKeyPk(keyId), 'APIKEY');
    return item ? strip<ApiKey>(item) : undefined;
  }

  async createTopic(topic: Topic): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: tenantPk(topic.tenantId), sk: topicSk(topic.name), ...topic },
          ConditionExpression: 'attribute_not_exists(sk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        const existing = await this.getTopic(topic.tenantId, topic.name);
        throw new TopicExistsError(existing ?? topic);
      }
      throw error;
    }
  }

  async getTopic(tenantId: string, name: string): Promise<Topic | undefined> {
    const item = await this.get(tenantPk(tenantId), topicSk(name));
    return item ? strip<Topic>(item) : undefined;
  }

  async listTopics(tenantId: string): Promise<Topic[]> {
    const items = await this.queryAll({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': tenantPk(tenantId), ':prefix': 'TOPIC#' },
    });
    return items.map((item) => strip<Topic>(item));
  }

  async updateTopic(expected: Topic, next: Topic): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: tenantPk(next.tenantId), sk: topicSk(next.name), ...next },
          ConditionExpression: 'topicId = :id AND #partitions = :partitions AND retentionMs = :retention',
          ExpressionAttributeNames: { '#partitions': 'partitions' },
          ExpressionAttributeValues: {
            ':id': expected.topicId,
            ':partitions': expected.partitions,
            ':retention': expected.retentionMs,
          },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new StaleWriteError(`Topic ${expected.name}`);
      throw error;
    }
  }

  async deleteTopic(topic: Topic): Promise<void> {
    // The tombstone first: if we crash between the two writes, the maintenance job finds a
    // tombstone whose topic still exists and leaves it alone; the other order could leave
    // data that nothing points at any more.
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: DELETED_TOPICS_PK,
          sk: deletedTopicSk(topic.tenantId, topic.topicId),
          tenantId: topic.tenantId,
          topicId: topic.topicId,
          name: topic.name,
          partitions: topic.partitions,
          deletedAt: Date.now(),
        },
      }),
    );
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { pk: tenantPk(topic.tenantId), sk: topicSk(topic.name) },
          ConditionExpression: 'topicId = :id',
          ExpressionAttributeValues: { ':id': topic.topicId },
        }),
      );
    } catch (error) {
      // Already deleted (or deleted and recreated): this incarnation is gone either way.
      if (error instanceof ConditionalCheckFailedException) return;
      throw error;
    }
  }
}
