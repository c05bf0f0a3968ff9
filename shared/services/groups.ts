import { randomBytes } from 'node:crypto';
import { GROUP_LIMITS } from '#shared/constants';
import {
  invalidRequest,
  offsetOutOfRange,
  partitionNotFound,
  RunnelError,
  topicNotFound,
  unavailable,
} from '#shared/domain/errors';
import type { TopicPartitions } from '#shared/domain/groups/assignment';
import { fenced, groupNotFound, rebalanceInProgress } from '#shared/domain/groups/errors';
import {
  type AutoOffsetReset,
  commitRefusal,
  emptyGroup,
  expiredMembers,
  type GroupState,
  isLive,
  lastHeartbeat,
  liveMembers,
  type Member,
  rebalance,
  subscribedTopics,
  type TopicSnapshot,
} from '#shared/domain/groups/membership';
import { recordSize, type StoredRecord } from '#shared/domain/records';
import {
  type CommittedOffset,
  GroupChangedError,
  type GroupStore,
  MemberNotLiveError,
  StaleGenerationError,
} from '#shared/ports/group-store';
import { partitionKey } from '#shared/ports/log-index';
import type { MetadataStore, Topic } from '#shared/ports/metadata-store';
import type { AppendNotifier } from './append-notifier';
import { mapWithConcurrency } from './concurrency';
import type { FetchService } from './fetch';
import { LONG_POLL_INTERVAL_MS } from './long-poll';
import type { PartitionLog } from './partition-log';
import { partitionRef } from './topics';

export interface AssignmentView {
  topic: string;
  partitions: number[];
}

export interface MemberAssignment {
  generation: number;
  assignments: AssignmentView[];
}

export interface JoinInput {
  topics: string[];
  sessionTimeoutMs: number;
  autoOffsetReset: AutoOffsetReset;
}

export interface CommitInput {
  memberId?: string | undefined;
  generation?: number | undefined;
  offsets: { topic: string; partition: number; offset: number; metadata?: string | undefined }[];
}

export interface GroupRecord extends StoredRecord {
  topic: string;
  partition: number;
}

export interface GroupFetchRequest {
  maxRecords: number;
  maxBytes: number;
  waitMs: number;
}

/** Backoff after a lost compare-and-set of the group document. */
const REBALANCE_BACKOFF_BASE_MS = 5;
const REBALANCE_BACKOFF_MAX_MS = 500;

/** Reads of partition heads and commits run with bounded concurrency. */
const READ_CONCURRENCY = 16;

const view = (assignments: TopicPartitions): AssignmentView[] =>
  Object.entries(assignments)
    .filter(([, partitions]) => partitions.length > 0)
    .map(([topic, partitions]) => ({ topic, partitions }))
    .sort((a, b) => (a.topic < b.topic ? -1 : 1));

const snapshot = (topic: Topic): TopicSnapshot => ({ topicId: topic.topicId, partitions: topic.partitions });

/** 96 random bits, 16 characters: member ids appear twice in the group document that every heartbeat pays for. */
const newMemberId = () => randomBytes(12).toString('base64url');

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Consumer groups over stateless HTTP. All state is in the group store, so any function
 * instance can serve any call: membership changes are compare-and-set writes of the
 * group document, heartbeats one conditional update of a member's deadline, commits one
 * conditional write per partition fenced by generation. docs/consumer-groups.md has the
 * protocol and its timelines.
 */
export class GroupService {
  constructor(
    private readonly store: GroupStore,
    private readonly metadata: MetadataStore,
    private readonly log: PartitionLog,
    private readonly fetcher: FetchService,
    private readonly notifier: AppendNotifier,
    private readonly clock: () => number,
    private readonly random: () => number = Math.random,
  ) {}

  async join(tenantId: string, group: string, input: JoinInput): Promise<MemberAssignment & { memberId: string }> {
    const topics = [...new Set(input.topics)].sort();
    const known = await this.topicSnapshots(tenantId, topics);
    for (const topic of topics) if (!known.has(topic)) throw topicNotFound(topic);
    const member: Member = {
      memberId: newMemberId(),
      topics,
      sessionTimeoutMs: input.sessionTimeoutMs,
      autoOffsetReset: input.autoOffsetReset,
      joinedAt: this.clock(),
      assignments: {},
    };
    const state = await this.change(tenantId, group, { join: member, createIfMissing: true, known });
    const joined = state?.members[member.memberId];
    if (!state || !joined) throw new Error('join did not add the member');
    return { memberId: member.memberId, generation: state.generation, assignments: view(joined.assignments) };
  }

  async heartbeat(tenantId: string, group: string, memberId: string): Promise<MemberAssignment> {
    const { state, member } = await this.beat(tenantId, group, memberId);
    return { generation: state.generation, assignments: view(member.assignments) };
  }

  /** Leaves the group (rebalancing the others at once). Leaving twice is not an error. */
  async leave(tenantId: string, group: string, memberId: string): Promise<void> {
    const state = await this.store.get(tenantId, group);
    if (!state) throw groupNotFound(group);
    await this.change(tenantId, group, { leave: memberId, state });
  }

  async commit(tenantId: string, group: string, input: CommitInput): Promise<void> {
    // Everything about the request is checked before anything is written.
    const seen = new Set<string>();
    for (const o of input.offsets) {
      const key = `${o.topic}#${o.partition}`;
      if (seen.has(key)) throw invalidRequest(`offsets lists ${o.topic}/${o.partition} twice.`);
      seen.add(key);
    }
    const topics = await this.loadTopics(tenantId, [...new Set(input.offsets.map((o) => o.topic))]);
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

    let state = await this.store.get(tenantId, group);
    const now = this.clock();
    if (state && expiredMembers(state, now).length > 0) state = await this.change(tenantId, group, { state });
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
        if (refusal) throw rebalanceInProgress(refusal.detail, currentAssignment(state, input.memberId));
      }
      generation = input.generation;
    } else {
      state = state ?? (await this.createEmpty(tenantId, group));
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
      throw await this.staleMember(tenantId, group, memberId, detail);
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
    let state = await this.store.get(tenantId, group);
    if (!state) throw groupNotFound(group);
    if (expiredMembers(state, this.clock()).length > 0) {
      state = (await this.change(tenantId, group, { state })) ?? state;
    }
    const { commits, topics: loaded } = await this.currentCommits(tenantId, group);
    const committed = new Map(commits.map((c) => [`${c.topic}#${c.partition}`, c]));
    const topicNames = [
      ...new Set([...subscribedTopics(Object.values(state.members)), ...commits.map((c) => c.topic)]),
    ].sort();
    // The commits' topics were read just now (the same incarnations the commits were matched with): read only the rest.
    const others = await this.loadTopics(
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
        assignments: view(m.assignments),
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
   * Records of the member's partitions, each from the group's committed offset (or the
   * autoOffsetReset position). Counts as a heartbeat; commits nothing, so a retry reads
   * the same records again.
   */
  async fetch(
    tenantId: string,
    group: string,
    memberId: string,
    request: GroupFetchRequest,
    authorizeTopic: (topic: string) => void,
  ): Promise<{ generation: number; records: GroupRecord[] }> {
    let { state, member } = await this.beat(tenantId, group, memberId);
    // The topics may have grown, been deleted or recreated since the assignment was made.
    const topics = await this.loadTopics(tenantId, member.topics, { allowMissing: true });
    const changed = member.topics.some(
      (t) =>
        state.topics[t]?.topicId !== topics.get(t)?.topicId ||
        state.topics[t]?.partitions !== topics.get(t)?.partitions,
    );
    if (changed) {
      const known = new Map([...topics].map(([name, t]) => [name, snapshot(t)]));
      state = (await this.change(tenantId, group, { state, known })) ?? state;
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
          throw await this.staleMember(
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
    for (;;) {
      const records = await this.readFrom(ordered, member.autoOffsetReset, request);
      const left = deadline - this.clock();
      if (records.length > 0 || left <= 0 || ordered.length === 0) return { generation, records };
      await this.waitForRecords(ordered, left);
    }
  }

  private async readFrom(
    positions: { topic: Topic; partition: number; position: number }[],
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

  /** Long poll over several partitions: wakes on an in-process append or re-reads the heads. */
  private async waitForRecords(positions: { topic: Topic; partition: number; position: number }[], ms: number) {
    const deadline = this.clock() + ms;
    for (;;) {
      const left = deadline - this.clock();
      if (left <= 0) return;
      const wait = Math.min(LONG_POLL_INTERVAL_MS, left);
      await Promise.race(
        positions.map((p) => this.notifier.wait(partitionKey(partitionRef(p.topic, p.partition)), wait)),
      );
      const heads = await mapWithConcurrency(positions, READ_CONCURRENCY, (p) =>
        this.log.highWatermark(partitionRef(p.topic, p.partition)),
      );
      if (heads.some((head, i) => head > (positions[i]?.position ?? 0))) return;
    }
  }

  /** A heartbeat: one conditional update; removes expired members when it sees any. */
  private async beat(
    tenantId: string,
    group: string,
    memberId: string,
  ): Promise<{ state: GroupState; member: Member }> {
    const now = this.clock();
    let state: GroupState;
    try {
      state = await this.store.heartbeat(tenantId, group, memberId, now);
    } catch (error) {
      if (!(error instanceof MemberNotLiveError)) throw error;
      const current = await this.store.get(tenantId, group);
      if (!current) throw groupNotFound(group);
      // Its session ran out (or it never was a member): remove it now, so its partitions move at once.
      if (expiredMembers(current, now).length > 0) await this.change(tenantId, group, { state: current });
      throw fenced(
        `Member '${memberId}' is not a live member of group '${group}' (session expired or unknown); join again.`,
      );
    }
    if (expiredMembers(state, now).length > 0) state = (await this.change(tenantId, group, { state })) ?? state;
    const member = state.members[memberId];
    if (!member) throw fenced(`Member '${memberId}' left group '${group}'; join again.`);
    return { state, member };
  }

  /**
   * Applies a membership change (and the removal of every expired member) with a
   * compare-and-set on the group's version, re-reading and recomputing after each lost
   * race. Returns the state written, or the current state when there was nothing to do.
   */
  private async change(
    tenantId: string,
    group: string,
    options: {
      join?: Member;
      leave?: string;
      state?: GroupState | undefined;
      createIfMissing?: boolean;
      known?: Map<string, TopicSnapshot>;
    },
  ): Promise<GroupState | undefined> {
    let state = options.state ?? (await this.store.get(tenantId, group));
    const known = new Map(options.known ?? []);
    for (let attempt = 1; attempt <= GROUP_LIMITS.maxRebalanceAttempts; attempt++) {
      if (!state && !options.createIfMissing) throw groupNotFound(group);
      const now = this.clock();
      const base = state ?? emptyGroup(group, now);
      const wanted = subscribedTopics([...Object.values(base.members), ...(options.join ? [options.join] : [])]);
      const missing = wanted.filter((t) => !known.has(t));
      for (const [name, t] of await this.topicSnapshots(tenantId, missing)) known.set(name, t);
      const result = rebalance(base, {
        ...(options.join ? { join: options.join } : {}),
        ...(options.leave !== undefined ? { leave: options.leave } : {}),
        topics: Object.fromEntries(known),
        now,
      });
      if (!result) return base;
      try {
        if (state) await this.store.update(tenantId, state, result.next, result.expired);
        else await this.store.create(tenantId, result.next);
        return result.next;
      } catch (error) {
        if (!(error instanceof GroupChangedError)) throw error;
        // Someone else changed the group first: back off (exponential, full jitter, so N
        // concurrent joiners spread out instead of colliding N² times), read, recompute.
        await sleep(this.random() * Math.min(REBALANCE_BACKOFF_MAX_MS, REBALANCE_BACKOFF_BASE_MS * 2 ** attempt));
        state = await this.store.get(tenantId, group);
      }
    }
    throw unavailable(`Group '${group}' is changing too often right now; retry.`);
  }

  /**
   * The answer to a live member whose generation moved on while it worked: 409
   * rebalance_in_progress with the group's current generation and the member's
   * assignments in it, to carry on with; 409 fenced if the member is no longer live.
   */
  private async staleMember(tenantId: string, group: string, memberId: string, detail: string): Promise<RunnelError> {
    const state = await this.store.get(tenantId, group);
    if (!state) return groupNotFound(group);
    if (!isLive(state, memberId, this.clock())) {
      return fenced(`${detail}, and member '${memberId}' is no longer a live member of the group; join again.`);
    }
    return rebalanceInProgress(
      `${detail}; carry on with the current generation and assignments.`,
      currentAssignment(state, memberId),
    );
  }

  private async createEmpty(tenantId: string, group: string): Promise<GroupState> {
    const state = emptyGroup(group, this.clock());
    try {
      await this.store.create(tenantId, state);
      return state;
    } catch (error) {
      if (!(error instanceof GroupChangedError)) throw error;
      return (await this.store.get(tenantId, group)) as GroupState;
    }
  }

  private async loadTopics(
    tenantId: string,
    names: readonly string[],
    options: { allowMissing?: boolean } = {},
  ): Promise<Map<string, Topic>> {
    const topics = await Promise.all(names.map((name) => this.metadata.getTopic(tenantId, name)));
    const byName = new Map<string, Topic>();
    names.forEach((name, i) => {
      const topic = topics[i];
      if (topic) byName.set(name, topic);
      else if (!options.allowMissing) throw topicNotFound(name);
    });
    return byName;
  }

  private async topicSnapshots(tenantId: string, names: readonly string[]): Promise<Map<string, TopicSnapshot>> {
    const topics = await this.loadTopics(tenantId, names, { allowMissing: true });
    return new Map([...topics].map(([name, t]) => [name, snapshot(t)]));
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
    const topics = await this.loadTopics(tenantId, [...new Set(items.map((c) => c.topic))], { allowMissing: true });
    const commits = items
      .filter((c) => topics.get(c.topic)?.topicId === c.topicId)
      .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
    return { commits, topics };
  }
}

const positionOf = (item: CommittedOffset): number => item.offset ?? item.startOffset ?? 0;

/** The group's current generation and a member's assignments in it (none if it is not a member). */
const currentAssignment = (state: GroupState, memberId: string): MemberAssignment => ({
  generation: state.generation,
  assignments: view(state.members[memberId]?.assignments ?? {}),
});
