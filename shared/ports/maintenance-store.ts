/**
 * What the maintenance job keeps between runs, beside the index: its lease (so two
 * scheduled runs at once do not do the same work twice), where it stopped, per topic how
 * far compaction has settled, and the tombstones of deleted topics and tenants whose data
 * it still has to remove.
 */

/** A deleted topic incarnation whose index entries and objects are still to be removed. */
export interface DeletedTopic {
  tenantId: string;
  topicId: string;
  name: string;
  partitions: number;
  deletedAt: number;
}

/** Per topic incarnation: what earlier runs settled. */
export interface TopicProgress {
  /** The retention the checkpoints were computed for: raising it unsettles short-class segments. */
  retentionMs: number;
  /** Per partition: entries below this offset are compacted as far as they will be. */
  settledThrough: Record<string, number>;
  /** When unreferenced objects of the topic were last looked for. */
  orphansSweptAt: number;
}

export interface MaintenanceStore {
  /**
   * Takes the job's lease if it is free or expired: one conditional write. Returns the
   * cursor the previous run left, or undefined when another run holds the lease.
   */
  acquireLease(owner: string, now: number, durationMs: number): Promise<{ cursor: string | undefined } | undefined>;
  /** Frees the lease (if still ours) and stores where the next run continues. */
  releaseLease(owner: string, cursor: string | undefined): Promise<void>;

  getProgress(tenantId: string, topicId: string): Promise<TopicProgress | undefined>;
  putProgress(tenantId: string, topicId: string, progress: TopicProgress): Promise<void>;
  deleteProgress(tenantId: string, topicId: string): Promise<void>;

  listDeletedTopics(limit: number): Promise<DeletedTopic[]>;
  /** Removes the tombstone once the topic's data is gone. */
  forgetDeletedTopic(topic: DeletedTopic): Promise<void>;
  /**
   * Deletes every item left under a deleted tenant's partition key (key list entries,
   * usage, groups, …) and the key lookup items those list entries name. Topics must be
   * gone first (they are deleted through topic tombstones). Returns the items deleted.
   */
  purgeTenantItems(tenantId: string): Promise<number>;
  /**
   * Subtracts record bytes the job removed from the tenant's approximate stored bytes
   * (the storage quota's count, kept on the tenant's produce usage item). No-op for a
   * tenant without that item.
   */
  releaseStoredBytes(tenantId: string, bytes: number): Promise<void>;
  /** Removes the `DELETED_TENANTS` tombstone once the tenant's data is gone. */
  forgetDeletedTenant(tenantId: string): Promise<void>;
}
