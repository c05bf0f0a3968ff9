/**
 * The partition assignment of a consumer group: which live member reads which
 * partitions. Pure and deterministic (the same input gives the same assignment on any
 * function instance), so whoever wins the group's compare-and-set computed the same
 * answer anyone else would have.
 *
 * - Complete: every partition of every subscribed topic has exactly one owner, and the
 *   owner subscribes to its topic.
 * - Balanced: members with the same subscriptions own counts that differ by at most
 *   one; with mixed subscriptions, no partition can move from a member to one that owns
 *   at least two fewer and subscribes to its topic.
 * - Sticky: a member keeps the partitions it owned as long as balance allows, so a
 *   rebalance moves as few partitions as it can (the ones of departed members, plus
 *   what the balance needs).
 */

/** Partitions per topic, each list ascending: `{"orders": [0, 2]}`. */
export type TopicPartitions = Record<string, number[]>;

export interface Subscriber {
  memberId: string;
  topics: readonly string[];
}

export interface AssignmentInput {
  members: readonly Subscriber[];
  /** Partition count of every topic a member subscribes to (0 or absent: the topic is gone). */
  partitionCounts: Readonly<Record<string, number>>;
  /** What each member owned before; entries of departed members are ignored. */
  previous: Readonly<Record<string, TopicPartitions>>;
}

// Topic and group names never contain '#', so this key is unambiguous.
const tpKey = (topic: string, partition: number) => `${topic}#${partition}`;
const parseKey = (key: string): [string, number] => {
  const at = key.lastIndexOf('#');
  return [key.slice(0, at), Number(key.slice(at + 1))];
};

const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Every topic some member subscribes to, once each, in ascending order. */
export const subscribedTopics = (members: Iterable<{ readonly topics: readonly string[] }>): string[] =>
  [...new Set([...members].flatMap((m) => m.topics))].sort();

export const assignPartitions = (input: AssignmentInput): Record<string, TopicPartitions> => {
  const members = [...input.members].sort((a, b) => byId(a.memberId, b.memberId));
  const subscribes = new Map(members.map((m) => [m.memberId, new Set(m.topics)]));
  const owned = new Map<string, Set<string>>(members.map((m) => [m.memberId, new Set<string>()]));
  const owner = new Map<string, string>();
  const load = (memberId: string) => (owned.get(memberId) as Set<string>).size;
  const give = (key: string, memberId: string) => {
    const previousOwner = owner.get(key);
    if (previousOwner !== undefined) owned.get(previousOwner)?.delete(key);
    owner.set(key, memberId);
    owned.get(memberId)?.add(key);
  };

  // Every partition of a subscribed topic, with the members that may own it.
  const eligible = new Map<string, string[]>();
  const topics = subscribedTopics(members);
  for (const topic of topics) {
    const count = input.partitionCounts[topic] ?? 0;
    const subscribers = members.filter((m) => subscribes.get(m.memberId)?.has(topic)).map((m) => m.memberId);
    for (let p = 0; p < count; p++) eligible.set(tpKey(topic, p), subscribers);
  }

  // 1. Stickiness: members keep what they owned, where still valid.
  for (const m of members) {
    for (const [topic, partitions] of Object.entries(input.previous[m.memberId] ?? {})) {
      if (!subscribes.get(m.memberId)?.has(topic)) continue;
      for (const p of partitions) {
        const key = tpKey(topic, p);
        if (eligible.has(key) && !owner.has(key)) give(key, m.memberId);
      }
    }
  }

  // 2. Orphans (new partitions, those of departed members) go to the least loaded
  //    eligible member; the most constrained partitions choose first.
  const orphans = [...eligible.keys()]
    .filter((key) => !owner.has(key))
    .sort((a, b) => (eligible.get(a)?.length ?? 0) - (eligible.get(b)?.length ?? 0));
  for (const key of orphans) {
    let best: string | undefined;
    for (const candidate of eligible.get(key) ?? []) {
      if (best === undefined || load(candidate) < load(best)) best = candidate;
    }
    if (best !== undefined) give(key, best);
  }

  // 3. Balance: move one partition at a time from a member to one that owns at least
  //    two fewer and may take it. Each move lowers the sum of squared loads, so this ends.
  for (;;) {
    const ordered = [...members].sort((a, b) => load(a.memberId) - load(b.memberId) || byId(a.memberId, b.memberId));
    let moved = false;
    search: for (const under of ordered) {
      const takes = subscribes.get(under.memberId) as Set<string>;
      for (let i = ordered.length - 1; i >= 0; i--) {
        const over = (ordered[i] as Subscriber).memberId;
        if (load(over) - load(under.memberId) < 2) break;
        // Give away the partition with the highest key: deterministic, and keeps low partitions in place.
        const candidates = [...(owned.get(over) as Set<string>)]
          .filter((key) => takes.has(parseKey(key)[0]))
          .sort(byId);
        const key = candidates.at(-1);
        if (key !== undefined) {
          give(key, under.memberId);
          moved = true;
          break search;
        }
      }
    }
    if (!moved) break;
  }

  const result: Record<string, TopicPartitions> = {};
  for (const m of members) {
    const assignment: TopicPartitions = {};
    for (const key of owned.get(m.memberId) as Set<string>) {
      const [topic, partition] = parseKey(key);
      const list = assignment[topic] ?? [];
      list.push(partition);
      assignment[topic] = list;
    }
    for (const list of Object.values(assignment)) list.sort((a, b) => a - b);
    result[m.memberId] = assignment;
  }
  return result;
};

/** How many partitions a member owns. */
export const partitionCount = (assignment: TopicPartitions): number =>
  Object.values(assignment).reduce((n, list) => n + list.length, 0);

/** Whether `assignment` holds `partition` of `topic`. */
export const ownsPartition = (assignment: TopicPartitions | undefined, topic: string, partition: number): boolean =>
  assignment?.[topic]?.includes(partition) ?? false;
