import type { Permission } from '#shared/domain/permissions';

export interface Tenant {
  tenantId: string;
  name: string;
  createdAt: number;
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
export class TopicExistsError extends Error {
  constructor(readonly existing: Topic) {
    super(`Topic ${existing.name} exists`);
    this.name = 'TopicExistsError';
  }
}

/** The item changed since it was read (optimistic concurrency). */
export class StaleWriteError extends Error {
  constructor(what: string) {
    super(`${what} changed concurrently`);
    this.name = 'StaleWriteError';
  }
}

export interface MetadataStore {
  createTenant(tenant: Tenant): Promise<void>;
  getTenant(tenantId: string): Promise<Tenant | undefined>;
  listTenants(): Promise<Tenant[]>;

  /** Stores a key; fails if the key id exists (ids are random, so only on a collision). */
  createApiKey(key: ApiKey): Promise<void>;
  getApiKey(keyId: string): Promise<ApiKey | undefined>;

  /** Throws {@link TopicExistsError} if the name is taken in the tenant. */
  createTopic(topic: Topic): Promise<void>;
  /** Strongly consistent: a deleted topic is gone for every reader at once. */
  getTopic(tenantId: string, name: string): Promise<Topic | undefined>;
  listTopics(tenantId: string): Promise<Topic[]>;
  /** Replaces the topic if its incarnation and partition count are still those of `expected`. */
  updateTopic(expected: Topic, next: Topic): Promise<void>;
  /** Deletes this incarnation (no-op if it is already gone). */
  deleteTopic(topic: Topic): Promise<void>;
}
