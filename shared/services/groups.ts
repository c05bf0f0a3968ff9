import type { GroupStore } from '#shared/ports/group-store';
import type { MetadataStore } from '#shared/ports/metadata-store';
import type { FetchService } from './fetch';
import { GroupFetch } from './group-fetch';
import { GroupMembership } from './group-membership';
import { GroupOffsets } from './group-offsets';
import { GroupTopics } from './group-topics';
import type { LongPoll } from './long-poll';
import type { PartitionLog } from './partition-log';

export type { GroupFetchRequest, GroupRecord } from './group-fetch';
export type { AssignmentView, JoinInput, MemberAssignment } from './group-membership';
export type { CommitInput } from './group-offsets';

export interface GroupServiceDeps {
  store: GroupStore;
  metadata: MetadataStore;
  log: PartitionLog;
  fetcher: FetchService;
  longPoll: LongPoll;
  clock: () => number;
  /** Backoff jitter and the partition a group fetch starts at. @default Math.random */
  random?: () => number;
}

/**
 * Consumer groups over stateless HTTP. All state is in the group store, so any function
 * instance can serve any call. Three parts, each in its own file:
 *
 * - membership (group-membership.ts): join, heartbeat, leave, expiry; compare-and-set
 *   writes of the group document;
 * - offsets and read models (group-offsets.ts): commit, fenced by generation; committed
 *   offsets, describe, list;
 * - group fetch (group-fetch.ts): a member's records from the committed offsets, with the
 *   long poll shared with partition fetches.
 *
 * docs/consumer-groups.md has the protocol and its timelines.
 */
export class GroupService {
  readonly membership: GroupMembership;
  readonly offsetStore: GroupOffsets;
  readonly groupFetch: GroupFetch;

  constructor(deps: GroupServiceDeps) {
    const topics = new GroupTopics(deps.metadata);
    const random = deps.random ?? Math.random;
    this.membership = new GroupMembership({ store: deps.store, topics, clock: deps.clock, random });
    this.offsetStore = new GroupOffsets({
      store: deps.store,
      membership: this.membership,
      topics,
      log: deps.log,
      clock: deps.clock,
    });
    this.groupFetch = new GroupFetch({
      store: deps.store,
      membership: this.membership,
      topics,
      log: deps.log,
      fetcher: deps.fetcher,
      longPoll: deps.longPoll,
      clock: deps.clock,
      random,
    });
  }

  join: GroupMembership['join'] = (...args) => this.membership.join(...args);
  heartbeat: GroupMembership['heartbeat'] = (...args) => this.membership.heartbeat(...args);
  leave: GroupMembership['leave'] = (...args) => this.membership.leave(...args);
  memberTopics: GroupMembership['memberTopics'] = (...args) => this.membership.memberTopics(...args);
  commit: GroupOffsets['commit'] = (...args) => this.offsetStore.commit(...args);
  offsets: GroupOffsets['offsets'] = (...args) => this.offsetStore.offsets(...args);
  describe: GroupOffsets['describe'] = (...args) => this.offsetStore.describe(...args);
  list: GroupOffsets['list'] = (...args) => this.offsetStore.list(...args);
  fetch: GroupFetch['fetch'] = (...args) => this.groupFetch.fetch(...args);
}
