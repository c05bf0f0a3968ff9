/**
 * Key formats of the metadata table that more than one adapter writes or reads (the
 * layout is described in metadata-store.ts, usage-store.ts and maintenance-store.ts).
 * The strings are stored: changing one orphans every existing item.
 */

/** Partition key of everything a tenant owns (keys' list entries, topics, groups, claims, usage). */
export const tenantPk = (tenantId: string) => `TENANT#${tenantId}`;
/** Sort key of a tenant's item under TENANTS and of its tombstone under DELETED_TENANTS (the same string). */
export const tenantSk = tenantPk;

/** An API key's lookup item: pk APIKEY#<keyId>, sk APIKEY. */
export const apiKeyPk = (keyId: string) => `APIKEY#${keyId}`;
export const API_KEY_SK = 'APIKEY';
/** Sort key prefix of a key's list entry under its tenant: KEY#<keyId>. */
export const KEY_SK_PREFIX = 'KEY#';
export const keySk = (keyId: string) => `${KEY_SK_PREFIX}${keyId}`;

/** Sort key prefix of a tenant's usage shards (usage-store.ts): USAGE#<direction>#<nn>. */
export const USAGE_SK_PREFIX = 'USAGE#';
export const usageShardKey = (tenantId: string, direction: 'produce' | 'fetch', shard: number) => ({
  pk: tenantPk(tenantId),
  sk: `${USAGE_SK_PREFIX}${direction}#${String(shard).padStart(2, '0')}`,
});

/** Tombstones of deleted topics and tenants, whose data the maintenance job removes. */
export const DELETED_TOPICS_PK = 'DELETED_TOPICS';
export const DELETED_TENANTS_PK = 'DELETED_TENANTS';
export const deletedTopicSk = (tenantId: string, topicId: string) => `${tenantId}#${topicId}`;

/** An item without its key attributes. */
export const strip = <T>(item: Record<string, unknown>): T => {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest as T;
};
