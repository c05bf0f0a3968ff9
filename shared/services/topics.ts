import { randomUUID } from 'node:crypto';
import { DEFAULT_RETENTION_MS, type Limits } from '#shared/constants';
import { boundedCache } from '#shared/domain/bounded-cache';
import { invalidRequest, partitionNotFound, RunnelError, topicNotFound } from '#shared/domain/errors';
import type { PartitionRef } from '#shared/ports/log-index';
import type { MetadataStore, Topic } from '#shared/ports/metadata-store';
import { StaleWriteError, TopicExistsError } from '#shared/ports/metadata-store';
import { KeyedSemaphore, mapWithConcurrency } from './concurrency';
import type { PartitionLog, PartitionSummary } from './partition-log';

export interface PartitionState extends PartitionSummary {
  partition: number;
}

/**
 * Partition-state reads in flight at once for all of one tenant's describes on one
 * function instance: ten concurrent describes of a 1,000-partition topic queue behind
 * each other instead of holding hundreds of storage calls that other tenants' produces
 * would wait behind.
 */
export const DESCRIBE_READS_PER_TENANT = 4;

/** Partitions one describe reads at once (the tenant's share above bounds them again). */
const DESCRIBE_CONCURRENCY = DESCRIBE_READS_PER_TENANT;

export const partitionRef = (topic: Topic, partition: number): PartitionRef => ({
  tenantId: topic.tenantId,
  topicId: topic.topicId,
  partition,
});

/** The topic changed since this instance planned a request with it (deleted topics answer 404 instead). */
export class TopicChangedError extends Error {
  constructor(readonly topic: Topic) {
    super(`Topic '${topic.name}' changed since it was read`);
  }
}

/** Topics one instance remembers to plan requests with; the least recently read go first. */
const MAX_TOPICS_REMEMBERED = 10_000;

const sameTopic = (a: Topic, b: Topic) =>
  a.topicId === b.topicId && a.partitions === b.partitions && a.retentionMs === b.retentionMs;

export class TopicService {
  /** The last version of each topic this instance read: plans only, always validated. */
  private readonly remembered = boundedCache<string, Topic>(MAX_TOPICS_REMEMBERED);

  constructor(
    private readonly metadata: MetadataStore,
    private readonly log: PartitionLog,
    private readonly clock: () => number,
    private readonly describeReads = new KeyedSemaphore(DESCRIBE_READS_PER_TENANT),
  ) {}

  async create(
    tenantId: string,
    input: { name: string; partitions: number; retentionMs?: number | undefined },
    limits: Limits,
  ): Promise<Topic> {
    if (input.partitions > limits.maxPartitionsPerTopic) {
      throw invalidRequest(`A topic has at most ${limits.maxPartitionsPerTopic} partitions.`);
    }
    const topic: Topic = {
      tenantId,
      name: input.name,
      topicId: randomUUID(),
      partitions: input.partitions,
      retentionMs: input.retentionMs ?? DEFAULT_RETENTION_MS,
      createdAt: this.clock(),
    };
    try {
      await this.metadata.createTopic(topic);
    } catch (error) {
      if (error instanceof TopicExistsError) {
        throw new RunnelError('topic_exists', `Topic '${input.name}' already exists.`, {
          existing: {
            name: error.existing.name,
            partitions: error.existing.partitions,
            retentionMs: error.existing.retentionMs,
            createdAt: error.existing.createdAt,
          },
        });
      }
      throw error;
    }
    return topic;
  }

  async get(tenantId: string, name: string): Promise<Topic> {
    const topic = await this.metadata.getTopic(tenantId, name);
    const key = `${tenantId}/${name}`;
    if (!topic) {
      this.remembered.delete(key);
      throw topicNotFound(name);
    }
    this.remembered.set(key, topic);
    return topic;
  }

  /**
   * The topic as this instance last read it, to start a request's reads with while
   * {@link validate} runs alongside them. Never trusted alone: a deleted topic must stop
   * being readable and writable at once, whatever an instance remembers.
   */
  recall(tenantId: string, name: string): Topic | undefined {
    return this.remembered.get(`${tenantId}/${name}`);
  }

  /**
   * Reads the topic (one GetItem) and checks that `planned` is still it: 404 when it is
   * gone, TopicChangedError (carrying the topic as it is now) when it was recreated,
   * grown or its retention changed.
   */
  async validate(tenantId: string, planned: Topic): Promise<Topic> {
    const topic = await this.get(tenantId, planned.name);
    if (!sameTopic(topic, planned)) throw new TopicChangedError(topic);
    return topic;
  }

  list(tenantId: string): Promise<Topic[]> {
    return this.metadata.listTopics(tenantId);
  }

  checkPartition(topic: Topic, partition: number): PartitionRef {
    if (!Number.isInteger(partition) || partition < 0 || partition >= topic.partitions) {
      throw partitionNotFound(topic.name, partition, topic.partitions);
    }
    return partitionRef(topic, partition);
  }

  /**
   * Every partition's bounds and retained size: one or two index reads per partition
   * (PartitionLog.summary), however many entries it holds, through the tenant's share of
   * describe reads on this instance.
   */
  async partitionStates(topic: Topic): Promise<PartitionState[]> {
    const partitions = Array.from({ length: topic.partitions }, (_, i) => i);
    return mapWithConcurrency(partitions, DESCRIBE_CONCURRENCY, async (partition) => {
      const summary = await this.describeReads.run(topic.tenantId, () =>
        this.log.summary(partitionRef(topic, partition), topic.retentionMs),
      );
      return { partition, ...summary };
    });
  }

  async update(
    tenantId: string,
    name: string,
    change: { partitions?: number | undefined; retentionMs?: number | undefined },
    limits: Limits,
  ): Promise<Topic> {
    const current = await this.get(tenantId, name);
    if (change.partitions !== undefined) {
      if (change.partitions < current.partitions) {
        throw invalidRequest(
          `Partitions only grow: the topic has ${current.partitions}; ${change.partitions} would remove some.`,
        );
      }
      if (change.partitions > limits.maxPartitionsPerTopic) {
        throw invalidRequest(`A topic has at most ${limits.maxPartitionsPerTopic} partitions.`);
      }
    }
    const next: Topic = {
      ...current,
      partitions: change.partitions ?? current.partitions,
      retentionMs: change.retentionMs ?? current.retentionMs,
    };
    try {
      await this.metadata.updateTopic(current, next);
    } catch (error) {
      if (error instanceof StaleWriteError) {
        throw new RunnelError('conflict', `Topic '${name}' was changed concurrently; read it and try again.`);
      }
      throw error;
    }
    return next;
  }

  async delete(tenantId: string, name: string): Promise<void> {
    const topic = await this.get(tenantId, name);
    await this.metadata.deleteTopic(topic, this.clock());
    this.remembered.delete(`${tenantId}/${name}`);
  }
}
