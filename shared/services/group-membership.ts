import { randomBytes } from 'node:crypto';
import { GROUP_LIMITS } from '#shared/constants';
import { RunnelError, topicNotFound, unavailable } from '#shared/domain/errors';
import { fenced, groupNotFound, rebalanceInProgress } from '#shared/domain/groups/errors';
import {
  type AutoOffsetReset,
  assignmentView,
  emptyGroup,
  expiredMembers,
  type GroupState,
  isLive,
  type Member,
  memberAssignment,
  rebalance,
  subscribedTopics,
  type TopicSnapshot,
} from '#shared/domain/groups/membership';
import { GroupChangedError, type GroupStore, MemberNotLiveError } from '#shared/ports/group-store';
import type { GroupTopics } from './group-topics';

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

/** Backoff after a lost compare-and-set of the group document. */
const REBALANCE_BACKOFF_BASE_MS = 5;
const REBALANCE_BACKOFF_MAX_MS = 500;

/** 96 random bits, 16 characters: member ids appear twice in the group document that every heartbeat pays for. */
const newMemberId = () => randomBytes(12).toString('base64url');

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface GroupMembershipDeps {
  store: GroupStore;
  topics: GroupTopics;
  clock: () => number;
  /** Jitter of the backoff after a lost compare-and-set. @default Math.random */
  random?: () => number;
}

/**
 * Who is in a group and what each member owns: join, heartbeat, leave, and the removal of
 * expired members. Membership changes are compare-and-set writes of the group document,
 * heartbeats one conditional update of a member's deadline (docs/consumer-groups.md has
 * the protocol and its timelines).
 */
export class GroupMembership {
  private readonly store: GroupStore;
  private readonly topics: GroupTopics;
  private readonly clock: () => number;
  private readonly random: () => number;

  constructor(deps: GroupMembershipDeps) {
    this.store = deps.store;
    this.topics = deps.topics;
    this.clock = deps.clock;
    this.random = deps.random ?? Math.random;
  }

  async join(tenantId: string, group: string, input: JoinInput): Promise<MemberAssignment & { memberId: string }> {
    const topics = [...new Set(input.topics)].sort();
    const known = await this.topics.snapshots(tenantId, topics);
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
    return { memberId: member.memberId, generation: state.generation, assignments: assignmentView(joined.assignments) };
  }

  async heartbeat(tenantId: string, group: string, memberId: string): Promise<MemberAssignment> {
    const { state, member } = await this.beat(tenantId, group, memberId);
    return { generation: state.generation, assignments: assignmentView(member.assignments) };
  }

  /** The topics a member subscribed to; empty when the group or the member is not there. */
  async memberTopics(tenantId: string, group: string, memberId: string): Promise<string[]> {
    const state = await this.store.get(tenantId, group);
    return state?.members[memberId]?.topics ?? [];
  }

  /** Leaves the group (rebalancing the others at once). Leaving twice is not an error. */
  async leave(tenantId: string, group: string, memberId: string): Promise<void> {
    const state = await this.store.get(tenantId, group);
    if (!state) throw groupNotFound(group);
    await this.change(tenantId, group, { leave: memberId, state });
  }

  /** A heartbeat: one conditional update; removes expired members when it sees any. */
  async beat(tenantId: string, group: string, memberId: string): Promise<{ state: GroupState; member: Member }> {
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
  async change(
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
      for (const [name, t] of await this.topics.snapshots(tenantId, missing)) known.set(name, t);
      const result = rebalance(base, {
        ...(options.join ? { join: options.join } : {}),
        ...(options.leave !== undefined ? { leave: options.leave } : {}),
        topics: Object.fromEntries(known),
        now,
      });
      if (!result) return base;
      assertGroupFits(result.next, options.join !== undefined);
      try {
        if (state) await this.store.update(tenantId, state, result.next, result.expired, now);
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

  /** The group document, with its expired members removed first (when there are any). */
  async current(tenantId: string, group: string): Promise<GroupState | undefined> {
    const state = await this.store.get(tenantId, group);
    if (state && expiredMembers(state, this.clock()).length > 0)
      return (await this.change(tenantId, group, { state })) ?? state;
    return state;
  }

  /** The group document, created empty if there is none (standalone commits). */
  async createEmpty(tenantId: string, group: string): Promise<GroupState> {
    const state = emptyGroup(group, this.clock());
    try {
      await this.store.create(tenantId, state);
      return state;
    } catch (error) {
      if (!(error instanceof GroupChangedError)) throw error;
      return (await this.store.get(tenantId, group)) as GroupState;
    }
  }

  /**
   * The answer to a live member whose generation moved on while it worked: 409
   * rebalance_in_progress with the group's current generation and the member's
   * assignments in it, to carry on with; 409 fenced if the member is no longer live.
   */
  async staleMember(tenantId: string, group: string, memberId: string, detail: string): Promise<RunnelError> {
    const state = await this.store.get(tenantId, group);
    if (!state) return groupNotFound(group);
    if (!isLive(state, memberId, this.clock())) {
      return fenced(`${detail}, and member '${memberId}' is no longer a live member of the group; join again.`);
    }
    return rebalanceInProgress(
      `${detail}; carry on with the current generation and assignments.`,
      memberAssignment(state, memberId),
    );
  }
}

/**
 * A group's state is one storage item: a change that would make it larger than
 * GROUP_LIMITS.maxGroupStateBytes is refused with a problem naming the limit. Only growth
 * is refused (a join); a leave or an expiry always goes through.
 */
const assertGroupFits = (next: GroupState, growing: boolean): void => {
  if (!growing) return;
  const bytes = Buffer.byteLength(JSON.stringify(next));
  if (bytes <= GROUP_LIMITS.maxGroupStateBytes) return;
  throw new RunnelError(
    'quota_exceeded',
    `Group '${next.group}' would hold ${bytes} bytes of members, topics and assignments; a group holds at most ${GROUP_LIMITS.maxGroupStateBytes}. Subscribe fewer or shorter-named topics, or use another group.`,
    { quota: 'maxGroupStateBytes', limit: GROUP_LIMITS.maxGroupStateBytes },
  );
};
