import { RunnelError } from '#shared/domain/errors';
import { fenced } from '#shared/domain/groups/errors';
import type { AutoOffsetReset } from '#shared/domain/groups/membership';
import { recordSize, type StoredRecord } from '#shared/domain/records';
import { type CommittedOffset, type GroupStore, StaleGenerationError } from '#shared/ports/group-store';
import type { PartitionRef } from '#shared/ports/log-index';
import type { Topic } from '#shared/ports/metadata-store';
import { mapWithConcurrency } from './concurrency';
import type { FetchService } from './fetch';
import type { GroupMembership } from './group-membership';
import { type GroupTopics, snapshot } from './group-topics';
import { LONG_POLL_INTERVAL_MS, type LongPoll } from './long-poll';
import type { PartitionLog } from './partition-log';
import { partitionRef } from './topics';

export interface GroupRecord extends StoredRecord {
  topic: string;
  partition: number;
}

export interface GroupFetchRequest {
  maxRecords: number;
  maxBytes: number;
  waitMs: number;
}

/** Reads of partition heads and commits run with bounded concurrency. */
const READ_CONCURRENCY = 16;

interface Position {
  topic: Topic;
  partition: number;
  position: number;
}

export interface GroupFetchDeps {
  store: GroupStore;
  membership: GroupMembership;
  topics: GroupTopics;
  log: PartitionLog;
  fetcher: FetchService;
  longPoll: LongPoll;
  clock: () => number;
  /** Which partition a fetch starts at. @default Math.random */
  random?: () => number;
}

/**
 * A member's fetch: records of its partitions, each from the group's committed offset (or
 * the autoOffsetReset position). It counts as a heartbeat and commits nothing, so a retry
 * reads the same records again. The first read of a partition in a generation claims it,
 * so no commit of an older generation can land afterwards (docs/consumer-groups.md).
 */
export class GroupFetch {
  private readonly store: GroupStore;
  private readonly membership: GroupMembership;
  private readonly topics: GroupTopics;
  private readonly log: PartitionLog;
  private readonly fetcher: FetchService;
  private readonly longPoll: LongPoll;
  private readonly clock: () => number;
  private readonly random: () => number;

  constructor(deps: GroupFetchDeps) {
    this.store = deps.store;
    this.membership = deps.membership;
    this.topics = deps.topics;
    this.log = deps.log;
    this.fetcher = deps.fetcher;
    this.longPoll = deps.longPoll;
    this.clock = deps.clock;
    this.random = deps.random ?? Math.random;
  }

  async fetch(
    tenantId: string,
    group: string,
    memberId: string,
    request: GroupFetchRequest,
    authorizeTopic: (topic: string) => void,
  ): Promise<{ generation: number; records: GroupRecord[]; waited: boolean }> {
    let { state, member } = await this.membership.beat(tenantId, group, memberId);
    // The topics may have grown, been deleted or recreated since the assignment was made.
    const topics = await this.topics.load(tenantId, member.topics, { allowMissing: true });
    const changed = member.topics.some(
      (t) =>
        state.topics[t]?.topicId !== topics.get(t)?.topicId ||
        state.topics[t]?.partitions !== topics.get(t)?.partitions,
    );
    if (changed) {
      const known = new Map([...topics].map(([name, t]) => [name, snapshot(t)]));
      state = (await this.membership.change(tenantId, group, { state, known })) ?? state;
      const current = state.members[memberId];
      if (!current) throw fenced(`Member '${memberId}' is not a live member of the group; join again.`);
      member = current;
    }
    for (const topic of Object.keys(member.assignments)) authorizeTopic(topic);

    const owned = Object.entries(member.assignments).flatMap(([name, partitions]) => {
      const topic = topics.get(name);
      return topic ? partitions.map((partition) => ({ topic, partition })) : [];
    });
    const generation = state.generation;
    const positions = await mapWithConcurrency(owned, READ_CONCURRENCY, async ({ topic, partition }) => {
      const ref = partitionRef(topic, partition);
      let item = await this.store.getCommit(tenantId, group, topic.name, partition);
      if (!item || item.generation < generation || item.topicId !== topic.topicId) {
        // First read of this partition in this generation: claim it, so no commit of an
        // older generation can land from now on (docs/consumer-groups.md, "Fencing").
        const bounds = await this.log.bounds(ref, topic.retentionMs);
        const startOffset = member.autoOffsetReset === 'earliest' ? bounds.logStartOffset : bounds.highWatermark;
        try {
          item = await this.store.claim(tenantId, group, item, {
            topic: topic.name,
            partition,
            topicId: topic.topicId,
            generation,
            startOffset,
          });
        } catch (error) {
          if (!(error instanceof StaleGenerationError)) throw error;
          throw await this.membership.staleMember(
            tenantId,
            group,
            memberId,
            `${topic.name}/${partition} belongs to a newer generation than ${generation}`,
          );
        }
      }
      return { topic, partition, position: positionOf(item) };
    });

    const deadline = this.clock() + request.waitMs;
    // Start at a random partition so a busy one cannot starve the others across calls.
    const first = positions.length > 0 ? Math.floor(this.random() * positions.length) : 0;
    const ordered = [...positions.slice(first), ...positions.slice(0, first)];
    const waitingFor = ordered.map((p) => ({ ref: partitionRef(p.topic, p.partition), from: p.position }));
    let waited = false;
    let aboveButEmpty = false;
    for (;;) {
      const records = await this.readFrom(ordered, member.autoOffsetReset, request);
      const left = deadline - this.clock();
      if (records.length > 0 || left <= 0 || ordered.length === 0) return { generation, records, waited };
      waited = true;
      // A high watermark above a position and still nothing to read: a hole (a writer between
      // its reservation and its put). Look again at the long poll's pace, not at once.
      if (aboveButEmpty)
        await this.longPoll.pause(waitingFor[0]?.ref as PartitionRef, Math.min(left, LONG_POLL_INTERVAL_MS));
      aboveButEmpty = await this.longPoll.waitForRecords(waitingFor, left);
    }
  }

  private async readFrom(
    positions: readonly Position[],
    reset: AutoOffsetReset,
    request: GroupFetchRequest,
  ): Promise<GroupRecord[]> {
    const records: GroupRecord[] = [];
    let maxRecords = request.maxRecords;
    let maxBytes = request.maxBytes;
    for (const p of positions) {
      if (maxRecords <= 0 || maxBytes <= 0) break;
      let result: Awaited<ReturnType<FetchService['fetch']>>;
      try {
        result = await this.fetcher.fetch(p.topic, p.partition, {
          offset: p.position,
          maxRecords,
          maxBytes,
          waitMs: 0,
        });
      } catch (error) {
        // The committed offset fell out of retention: continue as autoOffsetReset says (Kafka does the same).
        if (!(error instanceof RunnelError) || error.code !== 'offset_out_of_range') throw error;
        result = await this.fetcher.fetch(p.topic, p.partition, {
          offset: reset === 'earliest' ? 'earliest' : 'latest',
          maxRecords,
          maxBytes,
          waitMs: 0,
        });
      }
      for (const record of result.records) {
        records.push({ ...record, topic: p.topic.name, partition: p.partition });
        maxRecords--;
        maxBytes -= recordSize(record);
      }
    }
    return records;
  }
}

const positionOf = (item: CommittedOffset): number => item.offset ?? item.startOffset ?? 0;
