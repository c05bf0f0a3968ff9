import { PortError } from '#shared/domain/errors';
import type { GroupState } from '#shared/domain/groups/membership';

/**
 * Storage of consumer groups: one group document (membership, generation, assignment,
 * session deadlines) and one commit item per partition. Every method is one
 * single-item (conditional) read or write; see docs/consumer-groups.md for the layout
 * and the timelines.
 */

/** A partition's committed position in a group. */
export interface CommittedOffset {
  topic: string;
  partition: number;
  /** The topic incarnation the offset belongs to; a recreated topic starts without commits. */
  topicId: string;
  /** Next offset to read (Kafka's convention); absent until the first commit. */
  offset?: number;
  metadata?: string;
  /**
   * The highest generation that claimed or committed this partition. A write from an
   * older generation is refused: this is what stops a fenced member's late commit.
   */
  generation: number;
  /** Where an owner started reading when nothing was committed (autoOffsetReset, resolved once). */
  startOffset?: number;
  memberId?: string;
  committedAt?: number;
}

/** The group document changed since it was read (its version moved, or an expiring member heartbeated). */
export class GroupChangedError extends PortError {
  constructor(readonly group: string) {
    super('group_changed', `Group ${group} changed concurrently`);
  }
}

/** A heartbeat for a member that is not in the group or whose session ran out. */
export class MemberNotLiveError extends PortError {
  constructor(readonly memberId: string) {
    super('member_not_live', `Member ${memberId} is not live`);
  }
}

/** A claim or commit from a generation older than the partition's: the writer is stale. */
export class StaleGenerationError extends PortError {
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly generation: number,
  ) {
    super('stale_generation', `Generation ${generation} is stale for ${topic}/${partition}`);
  }
}

export interface CommitWrite {
  topic: string;
  partition: number;
  topicId: string;
  offset: number;
  metadata?: string | undefined;
  generation: number;
  memberId?: string | undefined;
  committedAt: number;
}

export interface PartitionClaim {
  topic: string;
  partition: number;
  topicId: string;
  generation: number;
  /** Where to start when nothing is committed (the resolved autoOffsetReset). */
  startOffset: number;
}

export interface GroupStore {
  /** Strongly consistent read of the group document. */
  get(tenantId: string, group: string): Promise<GroupState | undefined>;
  list(tenantId: string): Promise<GroupState[]>;
  /** Creates the group document; {@link GroupChangedError} if it exists. */
  create(tenantId: string, state: GroupState): Promise<void>;
  /**
   * Replaces membership, generation, assignment and topics if the version is still
   * `expected.version` and every member in `expired` still has the deadline it had in
   * `expected`. Deadlines of members that stay are left as they are (a concurrent
   * heartbeat is never lost). {@link GroupChangedError} otherwise.
   */
  update(
    tenantId: string,
    expected: GroupState,
    next: GroupState,
    expired: readonly string[],
    /** The caller's time: with it, the write also removes departed members' heartbeat items old enough to go. */
    now?: number,
  ): Promise<void>;
  /**
   * Moves the member's session deadline to `now + sessionTimeoutMs` if it is a member
   * whose deadline has not passed; returns the whole document after the write.
   * {@link MemberNotLiveError} otherwise (also when the group does not exist).
   */
  heartbeat(tenantId: string, group: string, memberId: string, now: number): Promise<GroupState>;

  getCommit(tenantId: string, group: string, topic: string, partition: number): Promise<CommittedOffset | undefined>;
  /** Commits of the group, of one topic or all. */
  listCommits(tenantId: string, group: string, topic?: string): Promise<CommittedOffset[]>;
  /** Writes a commit unless a newer generation claimed or committed the partition ({@link StaleGenerationError}). */
  commit(tenantId: string, group: string, write: CommitWrite): Promise<void>;
  /**
   * Raises the partition's generation to `claim.generation` (its owner starts reading),
   * storing `startOffset` if nothing is committed or started yet; returns the item after
   * the write. `current` is the item as the caller read it. {@link StaleGenerationError}
   * if a newer generation got there first.
   */
  claim(
    tenantId: string,
    group: string,
    current: CommittedOffset | undefined,
    claim: PartitionClaim,
  ): Promise<CommittedOffset>;
}
