import { type GroupDescription, type Runnel, RunnelError } from '@runnel/client';
import { type Command, Option } from 'commander';
import { integer, nonNegativeInt, resourceName } from '../arguments';
import { contextOf } from '../context';
import { CommandError, UsageError } from '../errors';

/** One partition's offset before and after a reset. */
export interface ResetPlan {
  topic: string;
  partition: number;
  /** The committed offset now; null when the group has none for the partition. */
  current: number | null;
  next: number;
  logStartOffset: number;
  highWatermark: number;
}

type ResetTarget =
  | { kind: 'earliest' }
  | { kind: 'latest' }
  | { kind: 'offset'; offset: number }
  | { kind: 'datetime'; timestampMs: number }
  | { kind: 'shift'; by: number };

interface ResetOptions {
  topic: string;
  toEarliest?: boolean;
  toLatest?: boolean;
  toOffset?: number;
  toDatetime?: string;
  shiftBy?: number;
  dryRun?: boolean;
  execute?: boolean;
}

const resetTarget = (options: ResetOptions): ResetTarget => {
  const targets: ResetTarget[] = [];
  if (options.toEarliest) targets.push({ kind: 'earliest' });
  if (options.toLatest) targets.push({ kind: 'latest' });
  if (options.toOffset !== undefined) targets.push({ kind: 'offset', offset: options.toOffset });
  if (options.toDatetime !== undefined) {
    const timestampMs = Date.parse(options.toDatetime);
    if (Number.isNaN(timestampMs)) {
      throw new UsageError(`--to-datetime "${options.toDatetime}" is not an ISO date (e.g. 2026-11-30T12:00:00Z)`);
    }
    targets.push({ kind: 'datetime', timestampMs });
  }
  if (options.shiftBy !== undefined) targets.push({ kind: 'shift', by: options.shiftBy });
  const [target, ...more] = targets;
  if (!target || more.length > 0) {
    throw new UsageError('give exactly one of --to-earliest, --to-latest, --to-offset, --to-datetime, --shift-by');
  }
  return target;
};

/** A live group's description, or none when the group does not exist yet (resetting creates its offsets). */
const describeOrNone = async (runnel: Runnel, group: string): Promise<GroupDescription | undefined> => {
  try {
    return await runnel.groups.describe(group);
  } catch (error) {
    if (error instanceof RunnelError && error.code === 'group_not_found') return undefined;
    throw error;
  }
};

/**
 * The new offset of every partition of the topic, as kafka-consumer-groups computes it:
 * out-of-range targets are moved to the nearest end of the log.
 */
export const planReset = async (runnel: Runnel, group: string, topic: string, target: ResetTarget) => {
  const [description, committed] = await Promise.all([
    runnel.topics.describe(topic),
    runnel.groups.offsets(group, topic).catch((error: unknown) => {
      if (error instanceof RunnelError && error.code === 'group_not_found') return [];
      throw error;
    }),
  ]);
  const committedOf = new Map(committed.filter((c) => c.topic === topic).map((c) => [c.partition, c.offset]));
  return Promise.all(
    description.partitionStates.map(async ({ partition, logStartOffset, highWatermark }): Promise<ResetPlan> => {
      const current = committedOf.get(partition) ?? null;
      let wanted: number;
      switch (target.kind) {
        case 'earliest':
          wanted = logStartOffset;
          break;
        case 'latest':
          wanted = highWatermark;
          break;
        case 'offset':
          wanted = target.offset;
          break;
        case 'datetime':
          wanted = await runnel.offsetForTimestamp(topic, partition, target.timestampMs);
          break;
        case 'shift':
          wanted = (current ?? logStartOffset) + target.by;
          break;
      }
      const next = Math.min(highWatermark, Math.max(logStartOffset, wanted));
      return { topic, partition, current, next, logStartOffset, highWatermark };
    }),
  );
};

export const registerGroup = (program: Command) => {
  const group = program
    .command('group')
    .description('list, describe and delete consumer groups; show lag; reset committed offsets')
    .addHelpText(
      'after',
      `
Examples:
  $ runnel group list
  $ runnel group describe billing
  $ runnel group lag billing
  $ runnel group reset billing --topic orders --to-earliest            # dry run: shows old -> new
  $ runnel group reset billing --topic orders --to-earliest --execute
  $ runnel group reset billing --topic orders --to-datetime 2026-11-30T09:00:00Z --execute
  $ runnel group delete billing`,
    );

  group
    .command('list')
    .alias('ls')
    .description("list the tenant's consumer groups")
    .action(async (_options: object, command: Command) => {
      const { out, client } = contextOf(command);
      const groups = await client().groups.list();
      out.table(
        groups.sort((a, b) => a.group.localeCompare(b.group)),
        [
          { header: 'GROUP', value: (g) => g.group },
          { header: 'GENERATION', value: (g) => g.generation, align: 'right' },
          { header: 'MEMBERS', value: (g) => g.members, align: 'right' },
        ],
        { groups },
        '(no consumer groups)',
      );
    });

  group
    .command('describe')
    .description("show a group's members, their assignments, committed offsets and lag")
    .argument('<group>', 'consumer group', resourceName)
    .action(async (name: string, _options: object, command: Command) => {
      const { out, client } = contextOf(command);
      const described = await client().groups.describe(name);
      if (out.json) {
        out.writeJson(described);
        return;
      }
      out.fields(
        [
          ['Group', described.group],
          ['Generation', described.generation],
          ['Members', described.members.length],
          ['State', described.members.length ? 'Stable' : 'Empty'],
        ],
        described,
      );
      if (described.members.length) {
        out.line();
        out.table(described.members, [
          { header: 'MEMBER', value: (m) => m.memberId },
          { header: 'TOPICS', value: (m) => m.topics.join(',') },
          {
            header: 'ASSIGNMENTS',
            value: (m) => m.assignments.map((a) => `${a.topic}:${a.partitions.join(',')}`).join(' '),
          },
          {
            header: 'LAST HEARTBEAT',
            value: (m) => (m.lastHeartbeat === null ? null : new Date(m.lastHeartbeat).toISOString()),
          },
        ]);
      }
      out.line();
      printLag(out, described);
    });

  group
    .command('lag')
    .description('committed offset, high watermark and lag per partition, with the total')
    .argument('<group>', 'consumer group', resourceName)
    .action(async (name: string, _options: object, command: Command) => {
      const { out, client } = contextOf(command);
      const described = await client().groups.describe(name);
      const total = described.partitions.reduce((sum, p) => sum + (p.lag ?? 0), 0);
      if (out.json) {
        out.writeJson({ group: described.group, totalLag: total, partitions: described.partitions });
        return;
      }
      printLag(out, described);
      out.note(`total lag: ${total}`);
    });

  group
    .command('reset')
    .description("move a group's committed offsets on a topic (a dry run unless --execute)")
    .argument('<group>', 'consumer group', resourceName)
    .requiredOption('--topic <topic>', 'the topic whose offsets move (all its partitions)', resourceName)
    .option('--to-earliest', 'to the log start of each partition')
    .option('--to-latest', 'to the high watermark of each partition (skip everything)')
    .option('--to-offset <n>', 'to this offset in every partition', nonNegativeInt)
    .option('--to-datetime <iso>', 'to the first record at or after this time (2026-11-30T09:00:00Z)')
    .option('--shift-by <n>', 'move each committed offset by n (negative goes back)', integer)
    .addOption(new Option('--dry-run', 'show old -> new offsets and change nothing (the default)').conflicts('execute'))
    .option('--execute', 'commit the new offsets')
    .addHelpText(
      'after',
      `
The group must have no live members (stop its consumers first), as with kafka-consumer-groups.
Offsets outside a partition's log are moved to its nearest end.

Examples:
  $ runnel group reset billing --topic orders --to-earliest                # dry run: old -> new per partition
  $ runnel group reset billing --topic orders --shift-by -100 --execute
  $ runnel group reset billing --topic orders --to-datetime 2026-11-30T09:00:00Z --execute`,
    )
    .action(async (name: string, options: ResetOptions, command: Command) => {
      const target = resetTarget(options);
      const { out, client } = contextOf(command);
      const runnel = client();
      const described = await describeOrNone(runnel, name);
      if (described && described.members.length > 0) {
        throw new CommandError(
          `group ${name} has ${described.members.length} live member${described.members.length === 1 ? '' : 's'}; stop its consumers before resetting its offsets`,
          'group_not_empty',
        );
      }
      const plan = await planReset(runnel, name, options.topic, target);
      if (options.execute) {
        await runnel.groups.commit(
          name,
          plan.map((p) => ({ topic: p.topic, partition: p.partition, offset: p.next })),
        );
      }
      const executed = Boolean(options.execute);
      if (out.json) {
        out.writeJson({ group: name, executed, partitions: plan });
        return;
      }
      out.table(plan, [
        { header: 'TOPIC', value: (p) => p.topic },
        { header: 'PARTITION', value: (p) => p.partition, align: 'right' },
        { header: 'OLD', value: (p) => p.current, align: 'right' },
        { header: 'NEW', value: (p) => p.next, align: 'right' },
      ]);
      out.note(
        executed
          ? `Committed new offsets for group ${name} on ${options.topic}.`
          : 'Dry run: nothing changed. Add --execute to commit these offsets.',
      );
    });

  group
    .command('delete')
    .alias('rm')
    .description('delete a group and its committed offsets (refused while it has live members)')
    .argument('<group>', 'consumer group', resourceName)
    .action(async (name: string, _options: object, command: Command) => {
      const { out, client } = contextOf(command);
      await client().groups.delete(name);
      if (out.json) {
        out.writeJson({ deleted: name });
        return;
      }
      out.note(`Deleted group ${name}`);
    });
};

const printLag = (out: ReturnType<typeof contextOf>['out'], described: GroupDescription) => {
  const owner = new Map<string, string>();
  for (const member of described.members) {
    for (const assignment of member.assignments) {
      for (const partition of assignment.partitions) owner.set(`${assignment.topic}/${partition}`, member.memberId);
    }
  }
  out.table(
    described.partitions,
    [
      { header: 'TOPIC', value: (p) => p.topic },
      { header: 'PARTITION', value: (p) => p.partition, align: 'right' },
      { header: 'COMMITTED', value: (p) => p.committedOffset, align: 'right' },
      { header: 'HIGH WATERMARK', value: (p) => p.highWatermark, align: 'right' },
      { header: 'LAG', value: (p) => p.lag, align: 'right' },
      { header: 'MEMBER', value: (p) => owner.get(`${p.topic}/${p.partition}`) },
    ],
    described.partitions,
    '(no committed offsets)',
  );
};
