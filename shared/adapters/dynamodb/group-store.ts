import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
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
 * Consumer groups in the metadata table (single-table, under the tenant's key):
 *
 *   pk            sk                                  item
 *   TENANT#<id>   GROUP#<group>                       group document: version, generation,
 *                                                     members (m), session deadlines (dl), topics
 *   TENANT#<id>   COMMIT#<group>#<topic>#<partition>  committed offset of one partition
 *
 * Names never contain '#', so the keys are unambiguous. Member fields are short because
 * every heartbeat pays for the whole document's size.
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

const toCommit = (item: Record<string, unknown>): CommittedOffset => strip<CommittedOffset>(item);

export class DynamoDbGroupStore implements GroupStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(tenantId: string, group: string): Promise<GroupState | undefined> {
    const result = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: tenantPk(tenantId), sk: groupSk(group) },
        ConsistentRead: true,
      }),
    );
    return result.Item ? toState(result.Item) : undefined;
  }

  async list(tenantId: string): Promise<GroupState[]> {
    const items = await queryAll(this.client, this.tableName, {
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': tenantPk(tenantId), ':prefix': 'GROUP#' },
    });
    return items.map(toState);
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

  async update(tenantId: string, expected: GroupState, next: GroupState, expired: readonly string[]): Promise<void> {
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
    for (const memberId of Object.keys(expected.members)) {
      if (next.members[memberId] !== undefined) continue;
      const p = name(memberId);
      remove.push(`dl.${p}`);
      // Timeline of an expiry racing a heartbeat of the expiring member M, served by an
      // instance whose clock is a little behind ours:
      //   t0  we read the group: by our clock M's deadline D has passed
      //   t1  M heartbeats there, where D has not passed: its deadline becomes D' > D
      //       (the heartbeat does not touch the version)
      //   t2  our write: without this check it would remove M, whose heartbeat just succeeded.
      // With `dl.M = D` the write fails at t2, we read again and M stays.
      if (expired.includes(memberId) && expected.deadlines[memberId] !== undefined) {
        values[`:old${p.slice(2)}`] = expected.deadlines[memberId];
        conditions.push(`dl.${p} = :old${p.slice(2)}`);
      }
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
  }

  async heartbeat(tenantId: string, group: string, memberId: string, now: number): Promise<GroupState> {
    try {
      const result = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: tenantPk(tenantId), sk: groupSk(group) },
          // The new deadline is computed in DynamoDB from the member's own timeout, so a
          // heartbeat needs no read first: one conditional update, version untouched.
          UpdateExpression: 'SET dl.#m = m.#m.st + :now',
          ConditionExpression: 'attribute_exists(m.#m) AND dl.#m >= :now',
          ExpressionAttributeNames: { '#m': memberId },
          ExpressionAttributeValues: { ':now': now },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toState(result.Attributes ?? {});
    } catch (error) {
      if (isConditionFailure(error)) throw new MemberNotLiveError(memberId);
      throw error;
    }
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
