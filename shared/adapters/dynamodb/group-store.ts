import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { AutoOffsetReset, GroupState, Member, TopicSnapshot } from '#shared/domain/groups/membership';
import {
  type CommittedOffset,
  type CommitWrite,
  GroupChangedError,
  type GroupStore,
  MemberNotLiveError,
  type PartitionClaim,
  StaleGenerationError,
} from '#shared/ports/group-store';
import { isConditionFailure } from './conditional';
import { strip, tenantPk } from './keys';
import { queryAll } from './query-all';

/** A claim only loses to a changing item a few times in a row (each loss means another write landed). */
const MAX_CLAIM_ATTEMPTS = 5;

/**
 * How long after a departed member's last deadline (or its fence) its heartbeat item is
 * kept. A heartbeat writes a member's item only if the member was in the document it read
 * and its deadline had not passed when it started, so every heartbeat that could still
 * write the item started before that time and ended within its invocation (at most 30 s
 * with the SDK's retries); 15 minutes leaves room for clock skew many times over.
 */
export const HEARTBEAT_ITEM_KEPT_MS = 15 * 60_000;

/**
 * Consumer groups in the metadata table (single-table, under the tenant's key):
 *
 *   pk            sk                                  item
 *   TENANT#<id>   GROUP#<group>                       group document: version, generation,
 *                                                     members (m), session deadlines (dl), topics
 *   TENANT#<id>   COMMIT#<group>#<topic>#<partition>  committed offset of one partition
 *   TENANT#<id>   HEARTBEAT#<group>#<memberId>        a member's session deadline (dl) since its
 *                                                     first heartbeat; dead: fenced out
 *
 * Names never contain '#', so the keys are unambiguous. A heartbeat writes only its own
 * small heartbeat item (1 write unit whatever the group's size); the document's `dl` keeps
 * the deadline a member got when it joined. A member's deadline is the later of the two,
 * and a member whose heartbeat item is fenced (`dead`) has none: it is removed at the
 * next membership change.
 */
interface MemberItem {
  /** topics */
  t: string[];
  /** session timeout ms */
  st: number;
  /** auto offset reset */
  r: AutoOffsetReset;
  /** joined at */
  j: number;
  /** assignments: topic -> partitions */
  a: Record<string, number[]>;
}

interface GroupItem {
  pk: string;
  sk: string;
  group: string;
  version: number;
  generation: number;
  m: Record<string, MemberItem>;
  dl: Record<string, number>;
  topics: Record<string, TopicSnapshot>;
  createdAt: number;
}

const groupSk = (group: string) => `GROUP#${group}`;
const heartbeatPrefix = (group: string) => `HEARTBEAT#${group}#`;
const heartbeatSk = (group: string, memberId: string) => `${heartbeatPrefix(group)}${memberId}`;

interface HeartbeatItem {
  sk: string;
  dl?: number;
  dead?: boolean;
  /** When it was fenced (items fenced before this field existed have none). */
  deadAt?: number;
}
const commitPrefix = (group: string, topic?: string) => `COMMIT#${group}#${topic === undefined ? '' : `${topic}#`}`;
const commitSk = (group: string, topic: string, partition: number) => `${commitPrefix(group, topic)}${partition}`;

const toMemberItem = (m: Member): MemberItem => ({
  t: m.topics,
  st: m.sessionTimeoutMs,
  r: m.autoOffsetReset,
  j: m.joinedAt,
  a: m.assignments,
});

const membersToItem = (members: Record<string, Member>) =>
  Object.fromEntries(Object.entries(members).map(([id, m]) => [id, toMemberItem(m)]));

const toState = (item: Record<string, unknown>): GroupState => {
  const it = item as unknown as GroupItem;
  const members: Record<string, Member> = {};
  for (const [memberId, m] of Object.entries(it.m ?? {})) {
    members[memberId] = {
      memberId,
      topics: m.t,
      sessionTimeoutMs: m.st,
      autoOffsetReset: m.r,
      joinedAt: m.j,
      assignments: m.a ?? {},
    };
  }
  return {
    group: it.group,
    version: it.version,
    generation: it.generation,
    members,
    deadlines: it.dl ?? {},
    topics: it.topics ?? {},
    createdAt: it.createdAt,
  };
};

/** The state with each member's deadline: the later of its join deadline and its heartbeat item's; none if fenced. */
const withHeartbeats = (
  state: GroupState,
  heartbeats: readonly HeartbeatItem[],
): GroupState & { joinDeadlines: Record<string, number> } => {
  const joinDeadlines = state.deadlines;
  const deadlines: Record<string, number> = { ...joinDeadlines };
  const prefix = heartbeatPrefix(state.group);
  for (const hb of heartbeats) {
    const memberId = hb.sk.slice(prefix.length);
    if (state.members[memberId] === undefined) continue;
    deadlines[memberId] = hb.dead ? 0 : Math.max(deadlines[memberId] ?? 0, hb.dl ?? 0);
  }
  return { ...state, deadlines, joinDeadlines };
};

const toCommit = (item: Record<string, unknown>): CommittedOffset => strip<CommittedOffset>(item);

export class DynamoDbGroupStore implements GroupStore {
  /** The heartbeat items read with each state this store returned: `update` sweeps with them, without another read. */
  private readonly heartbeatsOf = new WeakMap<GroupState, readonly HeartbeatItem[]>();

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private remember<S extends GroupState>(state: S, heartbeats: readonly HeartbeatItem[]): S {
    this.heartbeatsOf.set(state, heartbeats);
    return state;
  }

  async get(tenantId: string, group: string): Promise<GroupState | undefined> {
    const loaded = await this.load(tenantId, group);
    if (!loaded) return undefined;
    const { joinDeadlines: _, heartbeats, ...state } = loaded;
    return this.remember(state, heartbeats);
  }

  /** The group with every member's deadline, and the join deadlines of the document. */
  private async load(tenantId: string, group: string) {
    const [document, heartbeats] = await Promise.all([
      this.client.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { pk: tenantPk(tenantId), sk: groupSk(group) },
          ConsistentRead: true,
        }),
      ),
      this.heartbeats(tenantId, group),
    ]);
    return document.Item ? { ...withHeartbeats(toState(document.Item), heartbeats), heartbeats } : undefined;
  }

  private async heartbeats(tenantId: string, group: string): Promise<HeartbeatItem[]> {
    return (await queryAll(this.client, this.tableName, {
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': tenantPk(tenantId), ':prefix': heartbeatPrefix(group) },
      ConsistentRead: true,
    })) as unknown as HeartbeatItem[];
  }

  /*
   * Fences a departing member before the document drops it: its heartbeat item is marked
   * dead, and every later heartbeat of it fails. For an expired member the mark is
   * conditional on the deadline the caller saw having passed: a heartbeat that moved it
   * since wins, and the caller reads again (the member stays).
   */
  private async fence(
    tenantId: string,
    group: string,
    memberId: string,
    expiredAt: number | undefined,
    now: number | undefined,
  ) {
    const at = now === undefined ? {} : { ':now': now };
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: tenantPk(tenantId), sk: heartbeatSk(group, memberId) },
          UpdateExpression: now === undefined ? 'SET dead = :dead' : 'SET dead = :dead, deadAt = :now',
          ...(expiredAt === undefined ? {} : { ConditionExpression: 'attribute_not_exists(dl) OR dl <= :at' }),
          ExpressionAttributeValues:
            expiredAt === undefined ? { ':dead': true, ...at } : { ':dead': true, ':at': expiredAt, ...at },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new GroupChangedError(group);
      throw error;
    }
  }

  async list(tenantId: string): Promise<GroupState[]> {
    const query = (prefix: string) =>
      queryAll(this.client, this.tableName, {
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': tenantPk(tenantId), ':prefix': prefix },
      });
    const [items, heartbeats] = await Promise.all([query('GROUP#'), query('HEARTBEAT#')]);
    return items.map((item) => {
      const state = toState(item);
      const prefix = heartbeatPrefix(state.group);
      const { joinDeadlines: _, ...merged } = withHeartbeats(
        state,
        (heartbeats as unknown as HeartbeatItem[]).filter((hb) => hb.sk.startsWith(prefix)),
      );
      return merged;
    });
  }

  async create(tenantId: string, state: GroupState): Promise<void> {
    const item: GroupItem = {
      pk: tenantPk(tenantId),
      sk: groupSk(state.group),
      group: state.group,
      version: state.version,
      generation: state.generation,
      m: membersToItem(state.members),
      dl: state.deadlines,
      topics: state.topics,
      createdAt: state.createdAt,
    };
    try {
      await this.client.send(
        new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(sk)' }),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new GroupChangedError(state.group);
      throw error;
    }
  }

  async update(
    tenantId: string,
    expected: GroupState,
    next: GroupState,
    expired: readonly string[],
    now?: number,
  ): Promise<void> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {
      ':v': expected.version,
      ':nv': next.version,
      ':g': next.generation,
      ':m': membersToItem(next.members),
      ':topics': next.topics,
    };
    const set = ['version = :nv', 'generation = :g', 'm = :m', 'topics = :topics'];
    const remove: string[] = [];
    const conditions = ['version = :v'];
    let n = 0;
    const name = (memberId: string) => {
      const placeholder = `#d${n++}`;
      names[placeholder] = memberId;
      return placeholder;
    };
    // Only the deadlines of joining and departing members are written: those of members
    // that stay may be moving under us (heartbeats do not take the version) and must not
    // be overwritten with what we read.
    for (const memberId of Object.keys(next.members)) {
      if (expected.members[memberId] !== undefined) continue;
      const p = name(memberId);
      values[`:dl${p.slice(2)}`] = next.deadlines[memberId];
      set.push(`dl.${p} = :dl${p.slice(2)}`);
    }
    const departing = Object.keys(expected.members).filter((memberId) => next.members[memberId] === undefined);
    // Expired members are fenced before the write (see the timeline below); members that
    // leave, after it, so that a leave that loses its race does not fence anyone.
    const expiring = departing.filter((memberId) => expired.includes(memberId));
    const leaving = departing.filter((memberId) => !expired.includes(memberId));
    await Promise.all(
      expiring.map((memberId) =>
        this.fence(tenantId, expected.group, memberId, expected.deadlines[memberId] ?? 0, now),
      ),
    );
    for (const memberId of departing) {
      const p = name(memberId);
      remove.push(`dl.${p}`);
      // Timeline of an expiry racing a heartbeat of the expiring member M, served by an
      // instance whose clock is a little behind ours:
      //   t0  we read the group: by our clock M's deadline D has passed
      //   t1  M heartbeats there, where D has not passed: its heartbeat item's deadline
      //       becomes D' > D
      //   t2  our fence (above) requires dl <= D: it fails, we read again and M stays.
      // Had the fence landed first, M's heartbeat at t1 fails (dead) and M is out.
    }
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: tenantPk(tenantId), sk: groupSk(expected.group) },
          UpdateExpression: `SET ${set.join(', ')}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`,
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: Object.keys(names).length > 0 ? names : undefined,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new GroupChangedError(expected.group);
      throw error;
    }
    // A heartbeat of a member that left, which read the document before this write, fails.
    await Promise.all([
      ...leaving.map((memberId) => this.fence(tenantId, expected.group, memberId, undefined, now)),
      ...(now === undefined ? [] : this.sweep(tenantId, expected, next, now)),
    ]);
  }

  /**
   * Deletes the heartbeat items of members that departed long enough ago
   * ({@link HEARTBEAT_ITEM_KEPT_MS} after their last deadline or their fence), as read
   * with `expected`; each delete is conditional on the item being unchanged since. Member
   * ids are never reused, and no heartbeat can write such an item any more (see the
   * constant), so without these deletes the items would only grow the group's reads.
   */
  private sweep(tenantId: string, expected: GroupState, next: GroupState, now: number): Promise<void>[] {
    const prefix = heartbeatPrefix(expected.group);
    const gone = (this.heartbeatsOf.get(expected) ?? []).filter((hb) => {
      const memberId = hb.sk.slice(prefix.length);
      if (expected.members[memberId] !== undefined || next.members[memberId] !== undefined) return false;
      const last = Math.max(hb.dl ?? Number.NEGATIVE_INFINITY, hb.deadAt ?? Number.NEGATIVE_INFINITY);
      return last < now - HEARTBEAT_ITEM_KEPT_MS;
    });
    return gone.map(async (hb) => {
      const unchanged = (name: 'dl' | 'deadAt' | 'dead', value: unknown) =>
        value === undefined ? `attribute_not_exists(${name})` : `${name} = :${name}`;
      try {
        await this.client.send(
          new DeleteCommand({
            TableName: this.tableName,
            Key: { pk: tenantPk(tenantId), sk: hb.sk },
            ConditionExpression: [
              unchanged('dl', hb.dl),
              unchanged('deadAt', hb.deadAt),
              unchanged('dead', hb.dead),
            ].join(' AND '),
            ExpressionAttributeValues: Object.fromEntries(
              (['dl', 'deadAt', 'dead'] as const).filter((k) => hb[k] !== undefined).map((k) => [`:${k}`, hb[k]]),
            ),
          }),
        );
      } catch (error) {
        // Changed or gone since it was read: whoever changed it decides; the next membership change looks again.
        if (!isConditionFailure(error)) throw error;
      }
    });
  }

  /*
   * A heartbeat reads the group (document and heartbeat items) and writes only the
   * member's heartbeat item: `dl = now + sessionTimeoutMs` unless the member is fenced or
   * its deadline has passed. The member must be in the document it read; a member removed
   * after that read was fenced first, so the write fails.
   */
  async heartbeat(tenantId: string, group: string, memberId: string, now: number): Promise<GroupState> {
    const state = await this.load(tenantId, group);
    const member = state?.members[memberId];
    if (!state || !member) throw new MemberNotLiveError(memberId);
    const joinDeadline = state.joinDeadlines[memberId] ?? 0;
    const deadline = now + member.sessionTimeoutMs;
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: tenantPk(tenantId), sk: heartbeatSk(group, memberId) },
          UpdateExpression: 'SET dl = :dl',
          // Before its first heartbeat a member lives on its join deadline (in the document).
          ConditionExpression:
            joinDeadline >= now
              ? 'attribute_not_exists(dead) AND (attribute_not_exists(dl) OR dl >= :now)'
              : 'attribute_not_exists(dead) AND dl >= :now',
          ExpressionAttributeValues: { ':dl': deadline, ':now': now },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new MemberNotLiveError(memberId);
      throw error;
    }
    const { joinDeadlines: _, heartbeats, ...rest } = state;
    return this.remember({ ...rest, deadlines: { ...state.deadlines, [memberId]: deadline } }, heartbeats);
  }

  async getCommit(
    tenantId: string,
    group: string,
    topic: string,
    partition: number,
  ): Promise<CommittedOffset | undefined> {
    const result = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: tenantPk(tenantId), sk: commitSk(group, topic, partition) },
        ConsistentRead: true,
      }),
    );
    return result.Item ? toCommit(result.Item) : undefined;
  }

  async listCommits(tenantId: string, group: string, topic?: string): Promise<CommittedOffset[]> {
    const items = await queryAll(this.client, this.tableName, {
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': tenantPk(tenantId), ':prefix': commitPrefix(group, topic) },
      ConsistentRead: true,
    });
    return items.map(toCommit);
  }

  async commit(tenantId: string, group: string, write: CommitWrite): Promise<void> {
    const values: Record<string, unknown> = {
      ':topic': write.topic,
      ':partition': write.partition,
      ':topicId': write.topicId,
      ':offset': write.offset,
      ':g': write.generation,
      ':at': write.committedAt,
    };
    const set = [
      'topic = :topic',
      '#partition = :partition',
      'topicId = :topicId',
      '#offset = :offset',
      'generation = :g',
      'committedAt = :at',
    ];
    // A commit supersedes the autoOffsetReset starting point.
    const remove = ['startOffset'];
    if (write.metadata !== undefined) {
      values[':metadata'] = write.metadata;
      set.push('metadata = :metadata');
    } else remove.push('metadata');
    if (write.memberId !== undefined) {
      values[':member'] = write.memberId;
      set.push('memberId = :member');
    } else remove.push('memberId');
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: tenantPk(tenantId), sk: commitSk(group, write.topic, write.partition) },
          UpdateExpression: `SET ${set.join(', ')} REMOVE ${remove.join(', ')}`,
          // Timeline of the race this condition closes (docs/consumer-groups.md, "Fencing"):
          //   t0  zombie Z reads the group: Z owns p in generation 5, its commit is valid
          //   t1  Z's session runs out; a rebalance makes generation 6 and gives p to B
          //   t2  B claims p (generation := 6) and reads the committed offset from it
          //   t3  Z's write arrives. `generation <= 5` is false: refused, so B's starting
          //       point (and everything B commits later) can never be rolled back by Z.
          // A stale write that lands before t2 is seen by B's claim, so it is never lost
          // either: the commit is linearized at the moment of its group read.
          ConditionExpression: 'attribute_not_exists(generation) OR generation <= :g',
          ExpressionAttributeNames: { '#partition': 'partition', '#offset': 'offset' },
          ExpressionAttributeValues: values,
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new StaleGenerationError(write.topic, write.partition, write.generation);
      throw error;
    }
  }

  async claim(
    tenantId: string,
    group: string,
    current: CommittedOffset | undefined,
    claim: PartitionClaim,
  ): Promise<CommittedOffset> {
    for (let attempt = 0; attempt < MAX_CLAIM_ATTEMPTS; attempt++) {
      // A commit of an earlier incarnation of the topic means nothing for this one: start over.
      const sameTopic = current?.topicId === claim.topicId;
      try {
        const result = await this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { pk: tenantPk(tenantId), sk: commitSk(group, claim.topic, claim.partition) },
            UpdateExpression: sameTopic
              ? 'SET generation = :g, startOffset = if_not_exists(startOffset, :start)'
              : 'SET generation = :g, topic = :topic, #partition = :partition, topicId = :topicId, startOffset = :start REMOVE #offset, metadata, memberId, committedAt',
            ConditionExpression: sameTopic
              ? 'generation <= :g AND topicId = :topicId'
              : 'attribute_not_exists(generation) OR (generation <= :g AND topicId <> :topicId)',
            ExpressionAttributeNames: sameTopic ? undefined : { '#partition': 'partition', '#offset': 'offset' },
            ExpressionAttributeValues: sameTopic
              ? { ':g': claim.generation, ':start': claim.startOffset, ':topicId': claim.topicId }
              : {
                  ':g': claim.generation,
                  ':start': claim.startOffset,
                  ':topic': claim.topic,
                  ':partition': claim.partition,
                  ':topicId': claim.topicId,
                },
            ReturnValues: 'ALL_NEW',
          }),
        );
        return toCommit(result.Attributes ?? {});
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        // Either a newer generation claimed the partition, or the item changed between
        // the caller's read and this write: read again to tell which.
        current = await this.getCommit(tenantId, group, claim.topic, claim.partition);
        if (current && current.generation > claim.generation) {
          throw new StaleGenerationError(claim.topic, claim.partition, claim.generation);
        }
      }
    }
    throw new GroupChangedError(group);
  }
}
