import { PortError } from '#shared/domain/errors';
import type { Permission } from '#shared/domain/permissions';
import type { Quotas } from '#shared/domain/quotas';

export interface Tenant {
  tenantId: string;
  name: string;
  createdAt: number;
  /** Quotas the operator set; the others follow the defaults. */
  quotas?: Partial<Quotas>;
  /** Set while a deletion is under way: the tenant's keys no longer work. */
  deletedAt?: number;
}

export interface ApiKey {
  keyId: string;
  tenantId: string;
  name: string;
  /** SHA-256 of the whole key, hex. The key itself is never stored. */
  secretHash: string;
  permissions: Permission[];
  createdAt: number;
}

/** What a tenant sees of its keys: never the hash. */
export interface ApiKeySummary {
  keyId: string;
  name: string;
  permissions: Permission[];
  createdAt: number;
  /** Approximate (recorded at most every few minutes per function instance). */
  lastUsedAt?: number;
}

/** What the maintenance job finds under `DELETED_TENANTS`: a tenant whose data is to be removed. */
export interface TenantTombstone {
  tenantId: string;
  name: string;
  deletedAt: number;
}

export interface Topic {
  tenantId: string;
  name: string;
  /** Identifies this incarnation: a deleted and recreated topic gets a new id and starts empty. */
  topicId: string;
  partitions: number;
  /** -1 keeps records forever. */
  retentionMs: number;
  createdAt: number;
}

/** A topic with that name exists already. */
export class TopicExistsError extends PortError {
  constructor(readonly existing: Topic) {
    super('topic_name_taken', `Topic ${existing.name} exists`);
  }
}

/** The item changed since it was read (optimistic concurrency). */
export class StaleWriteError extends PortError {
  constructor(what: string) {
    super('stale_write', `${what} changed concurrently`);
  }
}

export interface MetadataStore {
  createTenant(tenant: Tenant): Promise<void>;
  getTenant(tenantId: string): Promise<Tenant | undefined>;
  listTenants(): Promise<Tenant[]>;

  /**
   * Sets (number) or resets to the default (null) the given quotas of a live tenant.
   * Returns the tenant after the change, or undefined if there is no such live tenant.
   */
  updateTenantQuotas(
    tenantId: string,
    change: Partial<Record<keyof Quotas, number | null>>,
  ): Promise<Tenant | undefined>;
  /**
   * Deletes a tenant in crash-safe steps (see docs/security.md): mark it deleted (its keys
   * stop working), leave a tombstone for maintenance, remove its key items, remove the
   * tenant item. False if there is no such tenant. Repeating it finishes a deletion that
   * died half way.
   */
  deleteTenant(tenantId: string, deletedAt: number): Promise<boolean>;
  listTenantTombstones(): Promise<TenantTombstone[]>;

  /** Stores a key; fails if the key id exists (ids are random, so only on a collision). */
  createApiKey(key: ApiKey): Promise<void>;
  getApiKey(keyId: string): Promise<ApiKey | undefined>;
  /** The tenant's keys, without hashes. */
  listApiKeys(tenantId: string): Promise<ApiKeySummary[]>;
  /** Revokes a key of this tenant; false if the tenant has no such key. */
  deleteApiKey(tenantId: string, keyId: string): Promise<boolean>;
  /** Records an approximate last use (no-op if the key is gone). */
  recordApiKeyUse(tenantId: string, keyId: string, at: number): Promise<void>;

  /** Throws {@link TopicExistsError} if the name is taken in the tenant. */
  createTopic(topic: Topic): Promise<void>;
  /** Strongly consistent: a deleted topic is gone for every reader at once. */
  getTopic(tenantId: string, name: string): Promise<Topic | undefined>;
  listTopics(tenantId: string): Promise<Topic[]>;
  /** Replaces the topic if its incarnation and partition count are still those of `expected`. */
  updateTopic(expected: Topic, next: Topic): Promise<void>;
  /** Deletes this incarnation (no-op if it is already gone); `deletedAt` (the caller's clock) dates its tombstone. */
  deleteTopic(topic: Topic, deletedAt: number): Promise<void>;
}
