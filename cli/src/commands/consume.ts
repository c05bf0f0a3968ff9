import type { Assignment, ConsumedRecord, Encoding, Runnel } from '@runnel/client';
import { type Command, Option } from 'commander';
import { nonNegativeInt, positiveInt, resourceName } from '../arguments';
import { type Context, contextOf } from '../context';
import { UsageError } from '../errors';
import { type OffsetSpec, parseOffsetSpec, startOffset } from '../offset-spec';
import { ProgressLine } from '../progress';
import { compileFormat, concat, type FormattableRecord } from '../record-format';
import { RecordWriter } from '../record-writer';
import { formatBytes } from './produce';

type OutputEncoding = 'utf8' | 'base64' | 'binary';

interface ConsumeOptions {
  partition?: number;
  offset: string;
  count?: number;
  exit?: boolean;
  format: string;
  group?: string;
  encoding: OutputEncoding;
  summary?: boolean;
}

const utf8 = new TextEncoder();

/** How a fetched key or value becomes the bytes the format prints. */
const toBytes = (value: string | null, encoding: OutputEncoding): Uint8Array | null => {
  if (value === null) return null;
  if (encoding === 'binary') return new Uint8Array(Buffer.from(value, 'base64'));
  return utf8.encode(value);
};

const formattable = (record: ConsumedRecord, encoding: OutputEncoding): FormattableRecord => ({
  topic: record.topic,
  partition: record.partition,
  offset: record.offset,
  timestamp: record.timestamp,
  key: toBytes(record.key, encoding),
  value: toBytes(record.value, encoding),
  headers: record.headers.map((h) => ({ key: h.key, value: toBytes(h.value, encoding) })),
});

/** One JSON line per record, the shape `runnel produce --format json` reads back. */
const jsonLine = (record: ConsumedRecord, encoding: OutputEncoding): Uint8Array =>
  utf8.encode(
    `${JSON.stringify({
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      timestamp: record.timestamp,
      key: record.key,
      value: record.value,
      headers: record.headers,
      ...(encoding === 'utf8' ? {} : { encoding: 'base64' }),
    })}\n`,
  );

/** Stops a consume loop: Ctrl-C, `-c` reached, or `-e` caught up. */
class Stop {
  private readonly controller = new AbortController();
  readonly signal = this.controller.signal;
  stop(): void {
    this.controller.abort();
  }
  get stopped(): boolean {
    return this.signal.aborted;
  }
}

export const registerConsume = (program: Command) => {
  program
    .command('consume')
    .description('print records of a topic, from a partition or as a member of a consumer group')
    .argument('<topic>', 'topic to consume', resourceName)
    .option('-p, --partition <n>', 'only this partition (default: all)', nonNegativeInt)
    .option(
      '-o, --offset <offset>',
      'start (default beginning; with -G stored): beginning, end, N, -N (N before the end), @TIMESTAMP_MS, -1h (a time ago); with -G: beginning, end or stored',
    )
    .option('-c, --count <n>', 'exit after printing n records', positiveInt)
    .option('-e, --exit', 'exit once caught up with the high watermark (in group mode too)')
    .option('-f, --format <format>', 'kcat format: %t %p %o %T %k %K %s (value) %v %S %h, \\n \\t \\xNN', '%s\\n')
    .option('--summary', 'print records, bytes, requests and time on stderr at the end')
    .option('-G, --group <group>', 'consume as a member of this group, committing what was printed', resourceName)
    .addOption(
      new Option('-E, --encoding <encoding>', 'keys and values as utf8 text, as base64 text, or as raw binary bytes')
        .choices(['utf8', 'base64', 'binary'])
        .default('utf8'),
    )
    .addHelpText(
      'after',
      `
Examples:
  $ runnel consume orders -o beginning -e                       # everything so far, then exit
  $ runnel consume orders -p 0 -o -10 -f '%o %k=%s\\n'            # the last 10 records of partition 0
  $ runnel consume orders -o -1h --json | jq .value             # the last hour, as JSON lines
  $ runnel consume orders -G billing -o beginning               # as a group member; Ctrl-C commits and leaves
  $ runnel consume blobs -p 0 -o beginning -e -E binary -f '%s' > blob.bin   # raw bytes, nothing added`,
    )
    .action(async (topic: string, options: ConsumeOptions, command: Command) => {
      const globals = command.optsWithGlobals<{ json?: boolean }>();
      const spec = parseOffsetSpec(options.offset ?? (options.group ? 'stored' : 'beginning'));
      const ctx = contextOf(command);
      const render = globals.json
        ? (r: ConsumedRecord) => jsonLine(r, options.encoding)
        : (
            (format) => (r: ConsumedRecord) =>
              format(formattable(r, options.encoding))
          )(compileFormat(options.format));
      const writer = new RecordWriter(ctx.out.stdout);
      const progress = new ProgressLine(ctx.out, 'consumed');
      const stop = new Stop();
      const started = performance.now();
      let printed = 0;
      let bytes = 0;
      /** Prints records in order; returns how many were printed (fewer when -c is reached). */
      const print = async (records: ConsumedRecord[]): Promise<number> => {
        const room = options.count === undefined ? records.length : Math.max(0, options.count - printed);
        const taken = records.slice(0, room);
        if (taken.length === 0) return 0;
        const chunk = concat(taken.map(render));
        printed += taken.length;
        bytes += chunk.length;
        await writer.write(chunk);
        progress.update(printed, bytes);
        if (options.count !== undefined && printed >= options.count) stop.stop();
        return taken.length;
      };
      const interrupt = () => stop.stop();
      process.once('SIGINT', interrupt);
      process.once('SIGTERM', interrupt);
      writer.onClosed(() => stop.stop());
      try {
        const encoding: Encoding = options.encoding === 'utf8' ? 'utf8' : 'base64';
        if (options.group) {
          await consumeAsGroup(ctx, topic, options.group, spec, options, encoding, print, stop);
        } else {
          if (options.partition === undefined && spec.kind === 'stored') {
            throw new UsageError('-o stored needs a group (-G GROUP)');
          }
          await consumePartitions(ctx.client(), topic, spec, options, encoding, print, stop);
        }
      } finally {
        process.off('SIGINT', interrupt);
        process.off('SIGTERM', interrupt);
        progress.done();
        await writer.end();
      }
      if (options.summary) {
        const seconds = (performance.now() - started) / 1000;
        ctx.out.note(
          `${printed} record${printed === 1 ? '' : 's'} consumed from ${topic} (${formatBytes(bytes)} printed in ${ctx.requests()} request${ctx.requests() === 1 ? '' : 's'}, ${seconds.toFixed(2)} s)`,
        );
      }
    });
};

/** Without a group: each partition read on its own from where `-o` says, in offset order. */
const consumePartitions = async (
  runnel: Runnel,
  topic: string,
  spec: OffsetSpec,
  options: ConsumeOptions,
  encoding: Encoding,
  print: (records: ConsumedRecord[]) => Promise<number>,
  stop: Stop,
) => {
  if (spec.kind === 'stored') throw new UsageError('-o stored needs a group (-G GROUP)');
  const described = await runnel.topics.describe(topic);
  const states = described.partitionStates.filter(
    (p) => options.partition === undefined || p.partition === options.partition,
  );
  if (options.partition !== undefined && states.length === 0) {
    throw new UsageError(`topic ${topic} has no partition ${options.partition} (it has ${described.partitions})`);
  }
  await Promise.all(
    states.map(async (state) => {
      let offset =
        startOffset(spec, state) ??
        (spec.kind === 'timestamp' ? await runnel.offsetForTimestamp(topic, state.partition, spec.timestampMs) : 0);
      while (!stop.stopped) {
        if (options.exit && offset >= state.highWatermark) {
          // Known to be caught up without asking again (an empty or fully read partition).
          return;
        }
        let result: Awaited<ReturnType<Runnel['fetch']>>;
        try {
          result = await runnel.fetch(topic, state.partition, {
            offset,
            maxRecords: 10_000,
            waitMs: options.exit ? 0 : 20_000,
            encoding,
            signal: stop.signal,
          });
        } catch (error) {
          if (stop.stopped) return;
          throw error;
        }
        await print(result.records);
        offset = result.nextOffset;
        state.highWatermark = result.highWatermark;
        if (options.exit && offset >= result.highWatermark) return;
      }
    }),
  );
};

/**
 * As a group member, through the SDK's consumer: the group assigns partitions and each
 * starts at the committed offset. Offsets are committed for what was printed, after it
 * was written; `-c` stops after n records and commits exactly those; Ctrl-C commits and
 * leaves. `-e` exits once every assigned partition is caught up: at assignment, those
 * whose position is already at the high watermark; then each after printing a batch that
 * reaches the high watermark reported with it.
 */
const consumeAsGroup = async (
  ctx: Context,
  topic: string,
  groupId: string,
  spec: OffsetSpec,
  options: ConsumeOptions,
  encoding: Encoding,
  print: (records: ConsumedRecord[]) => Promise<number>,
  stop: Stop,
) => {
  if (options.partition !== undefined) {
    throw new UsageError('-p and -G do not mix: the group assigns the partitions');
  }
  if (spec.kind !== 'beginning' && spec.kind !== 'end' && spec.kind !== 'stored') {
    throw new UsageError(
      'with -G, -o is beginning, end or stored: where a partition without a committed offset starts (a committed offset wins)',
    );
  }
  const runnel = ctx.client();
  const autoOffsetReset = spec.kind === 'beginning' ? 'earliest' : 'latest';
  const key = (t: string, p: number) => `${t}/${p}`;
  const caughtUp = new Set<string>();
  let assignment: string[] = [];
  const checkCaughtUp = () => {
    if (options.exit && assignment.every((tp) => caughtUp.has(tp))) stop.stop();
  };
  const flatten = (assignments: Assignment[]) => assignments.flatMap((a) => a.partitions.map((p) => key(a.topic, p)));
  const consumer = runnel.consumer({
    groupId,
    topics: [topic],
    autoOffsetReset,
    encoding,
    maxRecords: 10_000,
    waitMs: options.exit ? 1_000 : 20_000,
    // Runs before the new partitions are fetched: where each starts is known, and so is
    // whether it is already at the end.
    onAssigned: async (added) => {
      ctx.out.note(`% group ${groupId}: assigned ${describeAssignment(added)}`);
      if (options.exit) {
        const [described, committed] = await Promise.all([
          runnel.topics.describe(topic),
          runnel.groups.offsets(groupId, topic),
        ]);
        for (const a of added) {
          for (const partition of a.partitions) {
            const bounds = described.partitionStates.find((p) => p.partition === partition);
            if (!bounds) continue;
            const position =
              committed.find((c) => c.partition === partition)?.offset ??
              (autoOffsetReset === 'earliest' ? bounds.logStartOffset : bounds.highWatermark);
            if (position >= bounds.highWatermark) caughtUp.add(key(a.topic, partition));
          }
        }
      }
      assignment = flatten(consumer.assignment());
      for (const a of added) for (const p of a.partitions) assignment.push(key(a.topic, p));
      assignment = [...new Set(assignment)];
      queueMicrotask(checkCaughtUp);
    },
    onRevoked: (revoked) => {
      ctx.out.note(`% group ${groupId}: revoked ${describeAssignment(revoked)}`);
      const gone = new Set(flatten(revoked));
      assignment = assignment.filter((tp) => !gone.has(tp));
    },
  });
  consumer.on('group_join', ({ assignments }) => {
    // A member with nothing assigned (more members than partitions) is caught up at once.
    if (assignments.every((a) => a.partitions.length === 0)) {
      assignment = [];
      checkCaughtUp();
    }
  });
  const closing = new Promise<void>((resolve, reject) => {
    stop.signal.addEventListener('abort', () => consumer.close().then(resolve, reject), { once: true });
  });
  const running = consumer.run({
    eachBatch: async ({ batch, resolveOffset }) => {
      if (stop.stopped) throw new StoppedBeforeBatch();
      const printedHere = await print(batch.records);
      if (printedHere < batch.records.length) {
        // -c reached inside this batch: commit only what was printed.
        const last = batch.records[printedHere - 1];
        if (last) resolveOffset(last.offset);
        throw new StoppedBeforeBatch();
      }
      const last = batch.records[batch.records.length - 1];
      if (last && last.offset + 1 >= batch.highWatermark) {
        caughtUp.add(key(batch.topic, batch.partition));
        checkCaughtUp();
      }
    },
  });
  try {
    await running;
  } catch (error) {
    // The handler's own stop: run() has committed what was resolved and left the group.
    if (!(error instanceof StoppedBeforeBatch)) throw error;
  }
  if (stop.stopped) await closing;
};

/** `orders[0,2]` — as kcat reports a rebalance on stderr. */
const describeAssignment = (assignments: Assignment[]) =>
  assignments.map((a) => `${a.topic}[${a.partitions.join(',')}]`).join(' ') || '(nothing)';

/** Thrown from the batch handler to end run() without marking the rest of the batch processed. */
class StoppedBeforeBatch extends Error {
  override readonly name = 'StoppedBeforeBatch';
}
