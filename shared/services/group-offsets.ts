import { invalidRequest, offsetOutOfRange, partitionNotFound } from '#shared/domain/errors';
import { fenced, groupNotFound, rebalanceInProgress } from '#shared/domain/groups/errors';
import {
  assignmentView,
  commitRefusal,
  lastHeartbeat,
  liveMembers,
  memberAssignment,
  subscribedTopics,
} from '#shared/domain/groups/membership';
import { type CommittedOffset, type GroupStore, StaleGenerationError } from '#shared/ports/group-store';
import type { Topic } from '#shared/ports/metadata-store';
import { mapWithConcurrency } from './concurrency';
import type { GroupMembership } from './group-membership';
import type { GroupTopics } from './group-topics';
import type { PartitionLog } from './partition-log';
import { partitionRef } from './topics';

export interface CommitInput {
  memberId?: string | undefined;
  generation?: number | undefined;
  offsets: { topic: string; partition: number; offset: number; metadata?: string | undefined }[];
}

/** Reads of partition heads and commits run with bounded concurrency. */
const READ_CONCURRENCY = 16;

export interface GroupOffsetsDeps {
  store: GroupStore;
  membership: GroupMembership;
  topics: GroupTopics;
  log: PartitionLog;
  clock: () => number;
}

/**
 * A group's committed offsets and its read models: commit (fenced by generation, one
 * conditional write per partition), the committed offsets, describe (lag per partition)
 * and the tenant's group list.
 */
export class GroupOffsets {
  private readonly store: GroupStore;
  private readonly membership: GroupMembership;
  private readonly topics: GroupTopics;
  private readonly log: PartitionLog;
  private readonly clock: () => number;

  constructor(deps: GroupOffsetsDeps) {
    this.store = deps.store;
    this.membership = deps.membership;
    this.topics = deps.topics;
    this.log = deps.log;
    this.clock = deps.clock;
  }

  async commit(tenantId: string, group: string, input: CommitInput): Promise<void> {
    // Everything about the request is checked before anything is written.
    const seen = new Set<string>();
    for (const o of input.offsets) {
      const key = `${o.topic}#${o.partition}`;
      if (seen.has(key)) throw invalidRequest(`offsets lists ${o.topic}/${o.partition} twice.`);
      seen.add(key);
    }
    const topics = await this.topics.load(tenantId, [...new Set(input.offsets.map((o) => o.topic))]);
    for (const o of input.offsets) {
      const topic = topics.get(o.topic) as Topic;
      if (o.partition >= topic.partitions) throw partitionNotFound(o.topic, o.partition, topic.partitions);
    }
    await mapWithConcurrency(input.offsets, READ_CONCURRENCY, async (o) => {
      const topic = topics.get(o.topic) as Topic;
      const highWatermark = await this.log.highWatermark(partitionRef(topic, o.partition));
      // A committed offset is a position a consumer reached: at most the high watermark.
      if (o.offset > highWatermark) throw offsetOutOfRange(o.offset, 0, highWatermark);
    });

    let state = await this.membership.current(tenantId, group);
    const now = this.clock();
    let generation: number;
    if (input.memberId !== undefined && input.generation !== undefined) {
      if (!state) throw groupNotFound(group);
      for (const o of input.offsets) {
        const refusal = commitRefusal(
          state,
          { memberId: input.memberId, generation: input.generation, topic: o.topic, partition: o.partition },
          now,
        );
        if (refusal?.kind === 'not_live') throw fenced(refusal.detail, state.generation);
        if (refusal) throw rebalanceInProgress(refusal.detail, memberAssignment(state, input.memberId));
      }
      generation = input.generation;
    } else {
      state = state ?? (await this.membership.createEmpty(tenantId, group));
      if (liveMembers(state, now).length > 0) {
        throw fenced(
          `Group '${group}' has live members: only they commit (with memberId and generation) until they leave.`,
          state.generation,
        );
      }
      generation = state.generation;
    }
    const memberId = input.memberId;
    try {
      await Promise.all(
        input.offsets.map((o) =>
          this.store.commit(tenantId, group, {
            topic: o.topic,
            partition: o.partition,
            topicId: (topics.get(o.topic) as Topic).topicId,
            offset: o.offset,
            metadata: o.metadata,
            generation,
            memberId,
            committedAt: now,
          }),
        ),
      );
    } catch (error) {
      if (!(error instanceof StaleGenerationError)) throw error;
      const detail = `${error.topic}/${error.partition} was claimed by a newer generation than ${generation}`;
      if (memberId === undefined) throw fenced(`${detail}; the group has live members now.`);
      throw await this.membership.staleMember(tenantId, group, memberId, detail);
    }
  }

  /** The group's committed offsets (of the topics' current incarnations). */
  async offsets(tenantId: string, group: string, topic?: string) {
    const state = await this.store.get(tenantId, group);
    if (!state) throw groupNotFound(group);
    const { commits } = await this.currentCommits(tenantId, group, topic);
    return commits
      .filter((c) => c.offset !== undefined)
      .map((c) => ({
        topic: c.topic,
        partition: c.partition,
        offset: c.offset as number,
        metadata: c.metadata ?? null,
      }));
  }

  async describe(tenantId: string, group: string) {
    const state = await this.membership.current(tenantId, group);
    if (!state) throw groupNotFound(group);
    const { commits, topics: loaded } = await this.currentCommits(tenantId, group);
    const committed = new Map(commits.map((c) => [`${c.topic}#${c.partition}`, c]));
    const topicNames = [
      ...new Set([...subscribedTopics(Object.values(state.members)), ...commits.map((c) => c.topic)]),
    ].sort();
    // The commits' topics were read just now (the same incarnations the commits were matched with): read only the rest.
    const others = await this.topics.load(
      tenantId,
      topicNames.filter((name) => !loaded.has(name)),
      { allowMissing: true },
    );
    const topics = new Map<string, Topic>();
    for (const name of topicNames) {
      const topic = loaded.get(name) ?? others.get(name);
      if (topic) topics.set(name, topic);
    }
    const partitions = [...topics.entries()].flatMap(([name, t]) =>
      Array.from({ length: t.partitions }, (_, partition) => ({ name, topicId: t.topicId, partition })),
    );
    const states = await mapWithConcurrency(partitions, READ_CONCURRENCY, async (p) => {
      const highWatermark = await this.log.highWatermark({ tenantId, topicId: p.topicId, partition: p.partition });
      const offset = committed.get(`${p.name}#${p.partition}`)?.offset;
      return {
        topic: p.name,
        partition: p.partition,
        committedOffset: offset ?? null,
        highWatermark,
        lag: offset === undefined ? null : Math.max(0, highWatermark - offset),
      };
    });
    const members = Object.values(state.members)
      .sort((a, b) => a.joinedAt - b.joinedAt || (a.memberId < b.memberId ? -1 : 1))
      .map((m) => ({
        memberId: m.memberId,
        topics: m.topics,
        assignments: assignmentView(m.assignments),
        lastHeartbeat: lastHeartbeat(state, m.memberId) ?? null,
      }));
    return { group, generation: state.generation, members, partitions: states };
  }

  async list(tenantId: string) {
    const now = this.clock();
    const groups = await this.store.list(tenantId);
    return groups
      .map((g) => ({ group: g.group, generation: g.generation, members: liveMembers(g, now).length }))
      .sort((a, b) => (a.group < b.group ? -1 : 1));
  }

  /**
   * Commit items of the topics' current incarnations (those of deleted or recreated topics
   * are left out), and the topics read to decide it (by name; deleted ones absent).
   */
  private async currentCommits(
    tenantId: string,
    group: string,
    topic?: string,
  ): Promise<{ commits: CommittedOffset[]; topics: Map<string, Topic> }> {
    const items = await this.store.listCommits(tenantId, group, topic);
    const topics = await this.topics.load(tenantId, [...new Set(items.map((c) => c.topic))], { allowMissing: true });
    const commits = items
      .filter((c) => topics.get(c.topic)?.topicId === c.topicId)
      .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
    return { commits, topics };
  }
}
