import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { startStack } from '../test/harness';

/**
 * Consumer groups: DynamoDB calls per operation (counted on the SDK client), the size
 * of the group document and of the heartbeat item a heartbeat writes, and how long a rebalance takes
 * to reach the survivors. Run: `npm run bench` (or `npx tsx bench/groups.ts`).
 */
const countCalls = async (stack: Awaited<ReturnType<typeof startStack>>, fn: () => Promise<unknown>, runs = 1) => {
  stack.calls.reset();
  for (let i = 0; i < runs; i++) await fn();
  const perRun: Record<string, number> = {};
  for (const [op, n] of Object.entries(stack.calls.snapshot())) perRun[op.replace('DynamoDB.', '')] = n / runs;
  return perRun;
};

const fmt = (calls: Record<string, number>) =>
  `${Object.values(calls).reduce((a, b) => a + b, 0)} (${Object.entries(calls)
    .map(([op, n]) => `${n} ${op}`)
    .join(', ')})`;

export const benchGroups = async () => {
  let skew = 0;
  const stack = await startStack({ clock: () => Date.now() + skew });
  const { api, services, tenantId } = stack;
  const doc = DynamoDBDocumentClient.from(stack.emulators.dynamodb);
  const groupItemBytes = async (group: string) => {
    const item = (
      await doc.send(
        new GetCommand({
          TableName: stack.emulators.storage.tables.metadata,
          Key: { pk: `TENANT#${tenantId}`, sk: `GROUP#${group}` },
        }),
      )
    ).Item;
    // DynamoDB's item size: attribute names plus values; JSON is a close upper estimate.
    return JSON.stringify(item).length;
  };
  /** The member's heartbeat item: all a steady-state heartbeat writes. */
  const heartbeatItemBytes = async (group: string, memberId: string) => {
    const item = (
      await doc.send(
        new GetCommand({
          TableName: stack.emulators.storage.tables.metadata,
          Key: { pk: `TENANT#${tenantId}`, sk: `HEARTBEAT#${group}#${memberId}` },
        }),
      )
    ).Item;
    return JSON.stringify(item).length;
  };
  const lines: string[] = [];
  const say = (line: string) => {
    lines.push(line);
    console.log(line);
  };

  try {
    await api.post('/v1/topics', { name: 'bench-orders', partitions: 12 });
    const groups = await services.groups();
    const join = (group: string, sessionTimeoutMs = 45_000) =>
      groups.join(tenantId, group, {
        topics: ['bench-orders'],
        sessionTimeoutMs,
        autoOffsetReset: 'earliest',
      });

    // Steady state: 3 members, nothing changes between heartbeats.
    const members = [await join('steady'), await join('steady'), await join('steady')];
    const a = members[0]?.memberId as string;
    say(
      `heartbeat, steady state (3 members, 12 partitions): ${fmt(await countCalls(stack, () => groups.heartbeat(tenantId, 'steady', a), 20))} DynamoDB calls`,
    );
    say(
      `heartbeat seeing a rebalance made by another call: ${fmt(
        await countCalls(stack, async () => {
          await join('steady');
          stack.calls.reset();
          await groups.heartbeat(tenantId, 'steady', a);
        }),
      )}`,
    );

    // The heartbeat that finds an expired member and performs the rebalance itself.
    await join('expiry', 10_000);
    const survivor = await join('expiry', 300_000);
    skew += 10_001;
    say(
      `heartbeat that removes an expired member (rebalance): ${fmt(
        await countCalls(stack, () => groups.heartbeat(tenantId, 'expiry', survivor.memberId)),
      )}`,
    );

    say(`join (group of 4, no contention): ${fmt(await countCalls(stack, () => join('steady')))}`);
    const leaver = await join('steady');
    say(`leave: ${fmt(await countCalls(stack, () => groups.leave(tenantId, 'steady', leaver.memberId)))}`);

    // Time from a leave to the survivors owning everything: the leave's own write makes
    // the new assignment; survivors learn it on their next heartbeat.
    const timing = [await join('timing'), await join('timing'), await join('timing')];
    const t0 = performance.now();
    await groups.leave(tenantId, 'timing', timing[0]?.memberId as string);
    const tLeave = performance.now() - t0;
    const beats = await Promise.all(timing.slice(1).map((m) => groups.heartbeat(tenantId, 'timing', m.memberId)));
    const tKnown = performance.now() - t0;
    const owned = beats.flatMap((b) => b.assignments.flatMap((x) => x.partitions)).length;
    say(
      `leave -> survivors own all ${owned}/12 partitions: written in ${tLeave.toFixed(1)} ms (the leave call); known to both survivors after one heartbeat each, ${tKnown.toFixed(1)} ms after the leave started`,
    );

    // Commits and the member fetch, steady state (the member's partitions already claimed in this generation).
    await api.post('/v1/topics/bench-orders/records', {
      records: Array.from({ length: 24 }, (_, i) => ({ value: `v${i}`, partition: i % 12 })),
    });
    const state = await groups.heartbeat(tenantId, 'steady', a);
    const mine = state.assignments[0]?.partitions ?? [];
    await groups.fetch(tenantId, 'steady', a, { maxRecords: 500, maxBytes: 1 << 20, waitMs: 0 }, () => {});
    say(
      `member fetch, ${mine.length} partitions owned, already claimed: ${fmt(
        await countCalls(
          stack,
          () => groups.fetch(tenantId, 'steady', a, { maxRecords: 500, maxBytes: 1 << 20, waitMs: 0 }, () => {}),
          5,
        ),
      )}`,
    );
    say(
      `commit of ${mine.length} partitions: ${fmt(
        await countCalls(stack, () =>
          groups.commit(tenantId, 'steady', {
            memberId: a,
            generation: state.generation,
            offsets: mine.map((partition) => ({ topic: 'bench-orders', partition, offset: 1 })),
          }),
        ),
      )}`,
    );

    // Contention: N members joining at the same moment, each a compare-and-set on one item.
    for (const n of [10, 20]) {
      stack.calls.reset();
      const t = performance.now();
      await Promise.all(Array.from({ length: n }, () => join(`storm-${n}`)));
      const ms = performance.now() - t;
      const calls = stack.calls.snapshot();
      const updates = (calls['DynamoDB.UpdateItem'] ?? 0) + (calls['DynamoDB.PutItem'] ?? 0);
      say(
        `${n} concurrent joins: ${ms.toFixed(0)} ms in all, ${stack.calls.total('DynamoDB')} DynamoDB calls ` +
          `(${updates} conditional writes for ${n} changes: ${updates - n} lost races)`,
      );
    }

    // Large groups: sequential joins, then the cost of one heartbeat at that size.
    // 1,000 more partitions than the default partition quota leaves room for.
    await services.tenants.updateQuotas(tenantId, { maxPartitions: 10_000 });
    const wide = await api.post('/v1/topics', { name: 'bench-wide', partitions: 1000 });
    if (wide.status !== 201) throw new Error(`creating bench-wide: ${wide.status} ${JSON.stringify(wide.body)}`);
    for (const size of [100, 200]) {
      const group = `large-${size}`;
      const ids: string[] = [];
      const tJoin = performance.now();
      for (let i = 0; i < size; i++) {
        ids.push(
          (
            await groups.join(tenantId, group, {
              topics: ['bench-wide'],
              sessionTimeoutMs: 300_000,
              autoOffsetReset: 'latest',
            })
          ).memberId,
        );
      }
      const joinMs = (performance.now() - tJoin) / size;
      const bytes = await groupItemBytes(group);
      const beat = await countCalls(stack, () => groups.heartbeat(tenantId, group, ids[0] as string), 10);
      const hbBytes = await heartbeatItemBytes(group, ids[0] as string);
      const described = await groups.describe(tenantId, group);
      const counts = described.members.map((m) => m.assignments.reduce((n, x) => n + x.partitions.length, 0));
      say(
        `group of ${size} members over 1000 partitions: balanced ${Math.min(...counts)}..${Math.max(...counts)} per member, ` +
          `group document ≈ ${(bytes / 1024).toFixed(1)} KiB (a heartbeat reads it, ${Math.ceil(bytes / 4096)} RCU), ` +
          `heartbeat item ≈ ${hbBytes} B (a heartbeat writes ${Math.ceil(hbBytes / 1024)} WCU), ` +
          `heartbeat ${fmt(beat)}, join ${joinMs.toFixed(0)} ms each (sequential)`,
      );
    }
  } finally {
    await stack.close();
  }
  return lines;
};

if (import.meta.url === `file://${process.argv[1]}`) {
  await benchGroups();
}
