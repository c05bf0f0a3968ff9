import type { TopicDescription } from '@runnel/client';
import { type Command, Option } from 'commander';
import { positiveInt, resourceName } from '../arguments';
import { contextOf } from '../context';
import { formatRetention, parseRetention } from '../durations';
import { UsageError } from '../errors';

const retentionOption = () =>
  new Option(
    '--retention <duration>',
    'how long records are kept: 7d, 12h, a number of ms, or -1 for forever',
  ).argParser(parseRetention);

export const registerTopic = (program: Command) => {
  const topic = program
    .command('topic')
    .description('create, list, describe, alter and delete topics')
    .addHelpText(
      'after',
      `
Examples:
  $ runnel topic create orders -p 6 --retention 3d
  $ runnel topic list
  $ runnel topic describe orders --json
  $ runnel topic alter orders -p 12
  $ runnel topic delete orders --yes`,
    );

  topic
    .command('list')
    .alias('ls')
    .description('list the topics the key can see')
    .action(async (_options: object, command: Command) => {
      const { out, client } = contextOf(command);
      const topics = await client().topics.list();
      out.table(
        topics.sort((a, b) => a.name.localeCompare(b.name)),
        [
          { header: 'NAME', value: (t) => t.name },
          { header: 'PARTITIONS', value: (t) => t.partitions, align: 'right' },
          { header: 'RETENTION', value: (t) => formatRetention(t.retentionMs) },
          { header: 'CREATED', value: (t) => new Date(t.createdAt).toISOString() },
        ],
        { topics },
        '(no topics)',
      );
    });

  topic
    .command('create')
    .description('create a topic')
    .argument('<name>', 'topic name', resourceName)
    .option('-p, --partitions <n>', 'number of partitions (1-1000)', positiveInt, 1)
    .addOption(retentionOption())
    .addHelpText('after', '\nExample:\n  $ runnel topic create orders -p 6 --retention 7d')
    .action(async (name: string, options: { partitions: number; retention?: number }, command: Command) => {
      const { out, client } = contextOf(command);
      const created = await client().topics.create({
        name,
        partitions: options.partitions,
        ...(options.retention === undefined ? {} : { retentionMs: options.retention }),
      });
      if (out.json) {
        out.writeJson(created);
        return;
      }
      out.note(
        `Created topic ${created.name} (${created.partitions} partition${created.partitions === 1 ? '' : 's'}, retention ${formatRetention(created.retentionMs)})`,
      );
    });

  topic
    .command('describe')
    .description("show a topic's settings and each partition's offsets")
    .argument('<name>', 'topic name', resourceName)
    .action(async (name: string, _options: object, command: Command) => {
      const { out, client } = contextOf(command);
      const described: TopicDescription = await client().topics.describe(name);
      if (out.json) {
        out.writeJson(described);
        return;
      }
      out.fields(
        [
          ['Name', described.name],
          ['Partitions', described.partitions],
          ['Retention', formatRetention(described.retentionMs)],
          ['Created', new Date(described.createdAt).toISOString()],
        ],
        described,
      );
      out.line();
      out.table(described.partitionStates, [
        { header: 'PARTITION', value: (p) => p.partition, align: 'right' },
        { header: 'LOG START', value: (p) => p.logStartOffset, align: 'right' },
        { header: 'HIGH WATERMARK', value: (p) => p.highWatermark, align: 'right' },
        { header: 'RECORDS', value: (p) => p.highWatermark - p.logStartOffset, align: 'right' },
        { header: 'BYTES', value: (p) => p.retainedBytes, align: 'right' },
      ]);
    });

  topic
    .command('alter')
    .description("change a topic's retention or grow its partitions")
    .argument('<name>', 'topic name', resourceName)
    .option('-p, --partitions <n>', 'new partition count (partitions only grow)', positiveInt)
    .addOption(retentionOption())
    .addHelpText(
      'after',
      '\nExamples:\n  $ runnel topic alter orders -p 12\n  $ runnel topic alter orders --retention -1',
    )
    .action(async (name: string, options: { partitions?: number; retention?: number }, command: Command) => {
      if (options.partitions === undefined && options.retention === undefined) {
        throw new UsageError('nothing to change: give -p/--partitions or --retention');
      }
      const { out, client } = contextOf(command);
      const updated = await client().topics.update(name, {
        ...(options.partitions === undefined ? {} : { partitions: options.partitions }),
        ...(options.retention === undefined ? {} : { retentionMs: options.retention }),
      });
      if (out.json) {
        out.writeJson(updated);
        return;
      }
      out.note(
        `Altered topic ${updated.name}: ${updated.partitions} partitions, retention ${formatRetention(updated.retentionMs)}`,
      );
    });

  topic
    .command('delete')
    .alias('rm')
    .description('delete a topic and make its records unreadable at once')
    .argument('<name>', 'topic name', resourceName)
    .option('-y, --yes', 'do not ask (required when stdin is not a terminal)')
    .action(async (name: string, options: { yes?: boolean }, command: Command) => {
      const { out, client } = contextOf(command);
      if (!options.yes) await confirmByName(name, 'topic');
      await client().topics.delete(name);
      if (out.json) {
        out.writeJson({ deleted: name });
        return;
      }
      out.note(`Deleted topic ${name}`);
    });
};

/** Asks to type the name back on a terminal; refuses without `--yes` anywhere else. */
export const confirmByName = async (name: string, what: string): Promise<void> => {
  if (!process.stdin.isTTY) throw new UsageError(`refusing to delete ${what} ${name} without --yes`);
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`Type the ${what} name (${name}) to delete it: `);
    if (answer.trim() !== name) throw new UsageError('the name did not match; nothing deleted');
  } finally {
    rl.close();
  }
};
