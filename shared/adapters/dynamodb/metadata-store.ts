import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { QUOTA_NAMES, type Quotas } from '#shared/domain/quotas';
import type {
  ApiKey,
  ApiKeySummary,
  MetadataStore,
  Tenant,
  TenantTombstone,
  Topic,
} from '#shared/ports/metadata-store';
import { StaleWriteError, TopicExistsError } from '#shared/ports/metadata-store';
import { sendConditional } from './conditional';
import {
  API_KEY_SK,
  apiKeyPk,
  DELETED_TENANTS_PK,
  DELETED_TOPICS_PK,
  deletedTopicSk,
  KEY_SK_PREFIX,
  keySk,
  strip,
  tenantPk,
  tenantSk,
} from './keys';
import { queryAll } from './query-all';

/**
 * Single-table layout of the metadata table. Every tenant-owned item lives under its
 * tenant's partition key, so a tenant's data can only be reached through its id, and
 * that id comes from the authenticated key alone.
 *
 *   pk                      sk                 item
 *   TENANTS                 TENANT#<id>        tenant (quotas, deletedAt while being deleted)
 *   DELETED_TENANTS         TENANT#<id>        tombstone: a deleted tenant whose data maintenance removes
 *   APIKEY#<keyId>          APIKEY             API key with its hash (looked up by id when authenticating)
 *   TENANT#<id>             KEY#<keyId>        the tenant's list entry for that key (no hash), last use
 *   TENANT#<id>             TOPIC#<name>       topic
 *   TENANT#<id>             USAGE#<direction>  rate window and stored bytes (usage-store.ts)
 *   DELETED_TOPICS          <id>#<topicId>     tombstone: the topic's data is still to be removed
 *                                              (maintenance-store.ts has the job's items)
 *
 * A key is two items. Created list entry first, lookup item second, and revoked in the
 * reverse order, so every key that works is listed (and so can be revoked); a crash in
 * between leaves at most a listed key that no longer works, which revoking again removes.
 */
const TENANTS_PK = 'TENANTS';
/** Attempts of the optimistic quota update before giving up (operator calls rarely race). */
const QUOTA_UPDATE_ATTEMPTS = 5;
const topicSk = (name: string) => `TOPIC#${name}`;

const tenantOf = (item: Record<string, unknown>): Tenant => {
  const { tenantId, name, createdAt, quotas, deletedAt } = strip<Tenant>(item);
  const tenant: Tenant = { tenantId, name, createdAt, quotas: quotas ?? {} };
  if (deletedAt !== undefined) tenant.deletedAt = deletedAt;
  return tenant;
};

export class DynamoDbMetadataStore implements MetadataStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

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
        Item: { pk: TENANTS_PK, sk: tenantSk(tenant.tenantId), quotas: {}, revision: 0, ...tenant },
        ConditionExpression: 'attribute_not_exists(sk)',
      }),
    );
  }

  async updateTenantQuotas(
    tenantId: string,
    change: Partial<Record<keyof Quotas, number | null>>,
  ): Promise<Tenant | undefined> {
    for (let attempt = 0; attempt < QUOTA_UPDATE_ATTEMPTS; attempt++) {
      const item = await this.get(TENANTS_PK, tenantSk(tenantId));
      if (!item || item.deletedAt !== undefined) return undefined;
      const quotas: Partial<Quotas> = { ...((item.quotas as Partial<Quotas> | undefined) ?? {}) };
      for (const name of QUOTA_NAMES) {
        const value = change[name];
        if (value === null) delete quotas[name];
        else if (value !== undefined) quotas[name] = value;
      }
      const revision = typeof item.revision === 'number' ? item.revision : 0;
      // Read, merge, write if nobody wrote since: concurrent changes of different quotas both land.
      const result = await sendConditional(
        this.client,
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: TENANTS_PK, sk: tenantSk(tenantId) },
          UpdateExpression: 'SET quotas = :quotas, revision = :next',
          ConditionExpression:
            'attribute_exists(sk) AND attribute_not_exists(deletedAt) AND (attribute_not_exists(revision) OR revision = :revision)',
          ExpressionAttributeValues: { ':quotas': quotas, ':revision': revision, ':next': revision + 1 },
          ReturnValues: 'ALL_NEW',
        }),
      );
      if (result) return result.Attributes ? tenantOf(result.Attributes) : undefined;
    }
    throw new StaleWriteError(`Tenant ${tenantId}`);
  }

  /*
   * Deletion timeline; every step is one single-item write and the whole is idempotent:
   *   1. tenant item gets deletedAt   -> authentication refuses its keys from here on
   *   2. tombstone DELETED_TENANTS    -> maintenance will remove the tenant's data
   *   3. each APIKEY#<keyId> deleted  -> no hash of the tenant's keys stays behind
   *   4. tenant item deleted          -> the operator no longer sees it
   * A crash after 1 leaves a tenant that lists nowhere usable and whose keys fail;
   * DELETE again (the item is still found by id) runs 2-4.
   */
  async deleteTenant(tenantId: string, deletedAt: number): Promise<boolean> {
    const item = await this.get(TENANTS_PK, tenantSk(tenantId));
    if (!item) return false;
    const tenant = tenantOf(item);
    const at = tenant.deletedAt ?? deletedAt;
    if (tenant.deletedAt === undefined) {
      const marked = await sendConditional(
        this.client,
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: TENANTS_PK, sk: tenantSk(tenantId) },
          UpdateExpression: 'SET deletedAt = :at',
          ConditionExpression: 'attribute_exists(sk)',
          ExpressionAttributeValues: { ':at': at },
        }),
      );
      // Deleted concurrently: the other call finishes the job.
      if (!marked) return false;
    }
    const tombstone: TenantTombstone = { tenantId, name: tenant.name, deletedAt: at };
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: DELETED_TENANTS_PK, sk: tenantSk(tenantId), ...tombstone },
      }),
    );
    for (const key of await this.listApiKeys(tenantId)) await this.deleteKeyLookup(tenantId, key.keyId);
    await this.client.send(
      new DeleteCommand({ TableName: this.tableName, Key: { pk: TENANTS_PK, sk: tenantSk(tenantId) } }),
    );
    return true;
  }

  async listTenantTombstones(): Promise<TenantTombstone[]> {
    const items = await queryAll(this.client, this.tableName, {
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': DELETED_TENANTS_PK },
    });
    return items.map((item) => strip<TenantTombstone>(item));
  }

  async getTenant(tenantId: string): Promise<Tenant | undefined> {
    const item = await this.get(TENANTS_PK, tenantSk(tenantId));
    return item ? tenantOf(item) : undefined;
  }

  async listTenants(): Promise<Tenant[]> {
    const items = await queryAll(this.client, this.tableName, {
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': TENANTS_PK },
    });
    return items.map(tenantOf);
  }

  async createApiKey(key: ApiKey): Promise<void> {
    const summary: ApiKeySummary = {
      keyId: key.keyId,
      name: key.name,
      permissions: key.permissions,
      createdAt: key.createdAt,
    };
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: tenantPk(key.tenantId), sk: keySk(key.keyId), ...summary },
        ConditionExpression: 'attribute_not_exists(sk)',
      }),
    );
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: apiKeyPk(key.keyId), sk: API_KEY_SK, ...key },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async listApiKeys(tenantId: string): Promise<ApiKeySummary[]> {
    const items = await queryAll(this.client, this.tableName, {
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': tenantPk(tenantId), ':prefix': KEY_SK_PREFIX },
    });
    return items.map((item) => {
      const { keyId, name, permissions, createdAt, lastUsedAt } = strip<ApiKeySummary>(item);
      return lastUsedAt === undefined
        ? { keyId, name, permissions, createdAt }
        : { keyId, name, permissions, createdAt, lastUsedAt };
    });
  }

  /** Removes the lookup item, only if it belongs to this tenant: a key works no more once this returns. */
  private async deleteKeyLookup(tenantId: string, keyId: string): Promise<void> {
    await sendConditional(
      this.client,
      new DeleteCommand({
        TableName: this.tableName,
        Key: { pk: apiKeyPk(keyId), sk: API_KEY_SK },
        ConditionExpression: 'tenantId = :tenantId',
        ExpressionAttributeValues: { ':tenantId': tenantId },
      }),
    );
  }

  async deleteApiKey(tenantId: string, keyId: string): Promise<boolean> {
    if (!(await this.get(tenantPk(tenantId), keySk(keyId)))) return false;
    await this.deleteKeyLookup(tenantId, keyId);
    await this.client.send(
      new DeleteCommand({ TableName: this.tableName, Key: { pk: tenantPk(tenantId), sk: keySk(keyId) } }),
    );
    return true;
  }

  async recordApiKeyUse(tenantId: string, keyId: string, at: number): Promise<void> {
    // A failed condition: revoked meanwhile, nothing to record.
    await sendConditional(
      this.client,
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: tenantPk(tenantId), sk: keySk(keyId) },
        UpdateExpression: 'SET lastUsedAt = :at',
        ConditionExpression: 'attribute_exists(sk)',
        ExpressionAttributeValues: { ':at': at },
      }),
    );
  }

  async getApiKey(keyId: string): Promise<ApiKey | undefined> {
    const item = await this.get(apiKeyPk(keyId), API_KEY_SK);
    return item ? strip<ApiKey>(item) : undefined;
  }

  async createTopic(topic: Topic): Promise<void> {
    const created = await sendConditional(
      this.client,
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: tenantPk(topic.tenantId), sk: topicSk(topic.name), ...topic },
        ConditionExpression: 'attribute_not_exists(sk)',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    if (!created) {
      const existing = await this.getTopic(topic.tenantId, topic.name);
      throw new TopicExistsError(existing ?? topic);
    }
  }

  async getTopic(tenantId: string, name: string): Promise<Topic | undefined> {
    const item = await this.get(tenantPk(tenantId), topicSk(name));
    return item ? strip<Topic>(item) : undefined;
  }

  async listTopics(tenantId: string): Promise<Topic[]> {
    const items = await queryAll(this.client, this.tableName, {
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': tenantPk(tenantId), ':prefix': 'TOPIC#' },
    });
    return items.map((item) => strip<Topic>(item));
  }

  async updateTopic(expected: Topic, next: Topic): Promise<void> {
    const written = await sendConditional(
      this.client,
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
    if (!written) throw new StaleWriteError(`Topic ${expected.name}`);
  }

  async deleteTopic(topic: Topic, deletedAt: number): Promise<void> {
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
          deletedAt,
        },
      }),
    );
    // A failed condition: already deleted (or deleted and recreated), this incarnation is gone either way.
    await sendConditional(
      this.client,
      new DeleteCommand({
        TableName: this.tableName,
        Key: { pk: tenantPk(topic.tenantId), sk: topicSk(topic.name) },
        ConditionExpression: 'topicId = :id',
        ExpressionAttributeValues: { ':id': topic.topicId },
      }),
    );
  }
}
