import { assignPartitions, ownsPartition, subscribedTopics, type TopicPartitions } from './assignment';

/**
 * Membership rules of a consumer group, as pure functions over the group's state. The
 * service reads the state, applies one of these, and writes the result back with a
 * compare-and-set on `version` (see docs/consumer-groups.md).
 */

export type AutoOffsetReset = 'earliest' | 'latest';

export interface Member {
  memberId: string;
  topics: string[];
  sessionTimeoutMs: number;
  autoOffsetReset: AutoOffsetReset;
  joinedAt: number;
  /** What the member owns in the group's current generation. */
  assignments: TopicPartitions;
}

/** The topic incarnation and partition count an assignment was computed for. */
export interface TopicSnapshot {
  topicId: string;
  partitions: number;
}

export interface GroupState {
  group: string;
  /** Bumped by every membership change (compare-and-set token); heartbeats leave it alone. */
  version: number;
  /** Bumped by every membership or assignment change: a member's commits name the generation they belong to. */
  generation: number;
  members: Record<string, Member>;
  /**
   * Session deadline per member: lastHeartbeat + sessionTimeoutMs. Kept apart from
   * `members` so a heartbeat can move it with one small update that does not touch the
   * version (and so does not conflict with, or cause, a rebalance).
   */
  deadlines: Record<string, number>;
  /** The topics the current assignment covers (absent: the topic was deleted). */
  topics: Record<string, TopicSnapshot>;
  createdAt: number;
}

export const emptyGroup = (group: string, now: number): GroupState => ({
  group,
  version: 0,
  generation: 0,
  members: {},
  deadlines: {},
  topics: {},
  createdAt: now,
});

/** A member is live while its deadline has not passed (lastHeartbeat + sessionTimeoutMs >= now). */
export const isLive = (state: GroupState, memberId: string, now: number): boolean => {
  const deadline = state.deadlines[memberId];
  return state.members[memberId] !== undefined && deadline !== undefined && deadline >= now;
};

/** Members whose session has run out (or that have no deadline at all). */
export const expiredMembers = (state: GroupState, now: number): string[] =>
  Object.keys(state.members)
    .filter((id) => !isLive(state, id, now))
    .sort();

export const liveMembers = (state: GroupState, now: number): Member[] =>
  Object.values(state.members).filter((m) => isLive(state, m.memberId, now));

export const lastHeartbeat = (state: GroupState, memberId: string): number | undefined => {
  const member = state.members[memberId];
  const deadline = state.deadlines[memberId];
  return member && deadline !== undefined ? deadline - member.sessionTimeoutMs : undefined;
};

/** Every topic some member subscribes to (defined in assignment.ts, which uses it too). */
export { subscribedTopics };

export interface MembershipChange {
  join?: Member;
  leave?: string;
  /** Current topic snapshots of every topic the members (after the change) subscribe to. */
  topics: Record<string, TopicSnapshot>;
  now: number;
}

export interface Rebalanced {
  next: GroupState;
  /** Members removed because their session ran out (the write must check their deadlines did not move). */
  expired: string[];
}

const sameTopics = (a: Record<string, TopicSnapshot>, b: Record<string, TopicSnapshot>) => {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => a[k]?.topicId === b[k]?.topicId && a[k]?.partitions === b[k]?.partitions);
};

/**
 * Applies a join, a leave, the removal of expired members and topic changes in one
 * step, and recomputes the assignment. Returns undefined when nothing changes (no
 * write needed). Every change increments both the version and the generation.
 */
export const rebalance = (state: GroupState, change: MembershipChange): Rebalanced | undefined => {
  const expired = expiredMembers(state, change.now).filter((id) => id !== change.leave);
  const leaving = change.leave !== undefined && state.members[change.leave] !== undefined ? change.leave : undefined;
  const members: Record<string, Member> = {};
  const deadlines: Record<string, number> = {};
  for (const member of Object.values(state.members)) {
    if (member.memberId === leaving || expired.includes(member.memberId)) continue;
    members[member.memberId] = member;
    deadlines[member.memberId] = state.deadlines[member.memberId] as number;
  }
  if (change.join) {
    members[change.join.memberId] = change.join;
    deadlines[change.join.memberId] = change.now + change.join.sessionTimeoutMs;
  }
  const topics: Record<string, TopicSnapshot> = {};
  for (const topic of subscribedTopics(Object.values(members))) {
    const snapshot = change.topics[topic];
    if (snapshot) topics[topic] = snapshot;
  }
  if (!change.join && !leaving && expired.length === 0 && sameTopics(topics, state.topics)) return undefined;

  // A recreated topic is a new log: nothing of the old incarnation's ownership carries over.
  const previous: Record<string, TopicPartitions> = {};
  for (const member of Object.values(members)) {
    previous[member.memberId] = Object.fromEntries(
      Object.entries(member.assignments).filter(([topic]) => topics[topic]?.topicId === state.topics[topic]?.topicId),
    );
  }
  const assignments = assignPartitions({
    members: Object.values(members),
    partitionCounts: Object.fromEntries(Object.entries(topics).map(([t, s]) => [t, s.partitions])),
    previous,
  });
  for (const id of Object.keys(members)) {
    members[id] = { ...(members[id] as Member), assignments: assignments[id] ?? {} };
  }
  return {
    next: {
      ...state,
      version: state.version + 1,
      generation: state.generation + 1,
      members,
      deadlines,
      topics,
    },
    expired,
  };
};

/**
 * Why a commit of a member is refused, or undefined when the member owns the partition in
 * that generation. `not_live`: the member is unknown or expired and must join again;
 * `stale`: a live member's generation is out of date, or it names a partition it does not
 * own in the current one; it carries on with the current assignment.
 */
export type CommitRefusal = { kind: 'not_live' | 'stale'; detail: string };

export const commitRefusal = (
  state: GroupState,
  commit: { memberId: string; generation: number; topic: string; partition: number },
  now: number,
): CommitRefusal | undefined => {
  if (!isLive(state, commit.memberId, now)) {
    return {
      kind: 'not_live',
      detail: `Member '${commit.memberId}' is not a live member of the group (session expired or unknown); join again.`,
    };
  }
  if (commit.generation !== state.generation) {
    return {
      kind: 'stale',
      detail: `Generation ${commit.generation} is not the group's current generation ${state.generation}; carry on with the current generation and assignments.`,
    };
  }
  const member = state.members[commit.memberId] as Member;
  if (!ownsPartition(member.assignments, commit.topic, commit.partition)) {
    return {
      kind: 'stale',
      detail: `Member '${commit.memberId}' does not own ${commit.topic}/${commit.partition} in generation ${state.generation}; carry on with the current assignments.`,
    };
  }
  return undefined;
};

/** A member's partitions as the API lists them: one entry per topic with any, by topic name. */
export const assignmentView = (assignments: TopicPartitions): { topic: string; partitions: number[] }[] =>
  Object.entries(assignments)
    .filter(([, partitions]) => partitions.length > 0)
    .map(([topic, partitions]) => ({ topic, partitions }))
    .sort((a, b) => (a.topic < b.topic ? -1 : 1));

/** The group's current generation and a member's assignments in it (none if it is not a member). */
export const memberAssignment = (
  state: GroupState,
  memberId: string,
): { generation: number; assignments: { topic: string; partitions: number[] }[] } => ({
  generation: state.generation,
  assignments: assignmentView(state.members[memberId]?.assignments ?? {}),
});
