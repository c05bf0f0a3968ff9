import type { Runnel } from './client';
import { checkOption, RunnelError } from './errors';
import { backoffDelay, sleep } from './http';
import { AsyncQueue, type Deferred, deferred } from './queue';
import { SsePartitionSource } from './sse';
import type { ConsumedRecord, Encoding, FetchResult } from './types';

/** Where a {@link Reader} starts. */
export type ReaderStart =
  | 'earliest'
  | 'latest'
  | { offset: number }
  | { timestamp: number }
  /** Per-partition next offsets, e.g. from {@link Reader.position} (`"0:15,1:7"`) of an earlier reader. */
  | { resume: string | Record<number, number> };

/** Options of {@link Reader}. */
export interface ReaderOptions {
  /** The topic. */
  topic: string;
  /** One partition, several, or all of the topic's partitions. @default all */
  partitions?: number | number[];
  /** Where to start. @default 'latest' */
  from?: ReaderStart;
  /** Records per fetch. @default 500 */
  maxRecords?: number;
  /** Bytes per fetch. @default 1048576 */
  maxBytes?: number;
  /** Long-poll wait per fetch, 0..20000 ms. @default 10000 */
  waitMs?: number;
  /** How keys and values come back. @default 'utf8' */
  encoding?: Encoding;
  /** When the position falls below the log start (retention removed records): continue there, or fail. @default 'earliest' */
  onOutOfRange?: 'earliest' | 'fail';
  /** Stops the reader (its iterator then ends). */
  signal?: AbortSignal;
  /**
   * How partitions are followed: one Server-Sent Events stream each (`sse`), or long
   * polls (`poll`). @default 'sse' when the client has a `streamUrl`, else 'poll'
   */
  transport?: 'sse' | 'poll';
}

/** Records of one partition from one fetch. */
export interface ReaderBatch extends FetchResult {
  /** The topic. */
  topic: string;
  /** The partition. */
  partition: number;
}

/**
 * How a reader gets a partition's next records: long polls, or one Server-Sent Events
 * stream per partition (`transport: 'sse'`); another source fits the same shape.
 */
export interface PartitionSource {
  /** The next records at or after `offset`, waiting up to the source's wait for some. */
  next(partition: number, offset: number | 'earliest' | 'latest', signal: AbortSignal): Promise<FetchResult>;
}

/**
 * Reads a partition or a whole topic from an offset or a time, without a consumer group:
 * `for await (const batch of reader)` yields each partition's records in offset order;
 * {@link Reader.position} says where to resume.
 *
 * @example
 * ```ts
 * const reader = runnel.reader({ topic: 'orders', from: 'earliest' });
 * for await (const { records } of reader) for (const r of records) console.log(r.partition, r.offset, r.value);
 * ```
 */
export class Reader implements AsyncIterable<ReaderBatch> {
  private readonly runnel: Runnel;
  private readonly options: ReaderOptions;
  private readonly source: PartitionSource;
  private readonly positions = new Map<number, number>();
  private readonly queue = new AsyncQueue<{ batch: ReaderBatch; taken: Deferred }>();
  private readonly stop = new AbortController();
  private started: Promise<void> | undefined;
  private lastTaken: Deferred | undefined;
  private readonly stopped: Promise<void>;

  constructor(runnel: Runnel, options: ReaderOptions, source?: PartitionSource) {
    checkOption(typeof options?.topic === 'string' && options.topic.length > 0, 'topic is required.');
    const waitMs = options.waitMs ?? 10_000;
    checkOption(Number.isInteger(waitMs) && waitMs >= 0 && waitMs <= 20_000, 'waitMs must be 0..20000.');
    const parts = options.partitions;
    checkOption(
      parts === undefined || (Array.isArray(parts) ? parts : [parts]).every((p) => Number.isInteger(p) && p >= 0),
      'partitions must be integers ≥ 0.',
    );
    checkOption(
      options.transport === undefined || options.transport === 'sse' || options.transport === 'poll',
      'transport is "sse" or "poll".',
    );
    this.runnel = runnel;
    this.options = { ...options, waitMs };
    const sse = (options.transport ?? (runnel.transport.streamUrl ? 'sse' : 'poll')) === 'sse';
    this.source =
      source ??
      (sse
        ? new SsePartitionSource(runnel.transport, options.topic, options)
        : {
            next: (partition, offset, signal) =>
              runnel.fetch(options.topic, partition, {
                offset,
                waitMs,
                signal,
                ...(options.maxRecords ? { maxRecords: options.maxRecords } : {}),
                ...(options.maxBytes ? { maxBytes: options.maxBytes } : {}),
                ...(options.encoding ? { encoding: options.encoding } : {}),
              }),
          });
    this.stopped = new Promise((resolve) =>
      this.stop.signal.addEventListener('abort', () => resolve(), { once: true }),
    );
    options.signal?.addEventListener('abort', () => this.close(), { once: true });
  }

  /** The next offset of every partition read so far, as `"0:15,1:7"` (pass it back as `from: { resume }`). */
  position(): string {
    return [...this.positions.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([p, o]) => `${p}:${o}`)
      .join(',');
  }

  /** Stops reading; the iterator ends. */
  close(): void {
    this.stop.abort(new RunnelError('closed', 0, 'The reader is closed.', { retriable: false }));
    this.queue.close();
  }

  [Symbol.asyncIterator](): AsyncIterator<ReaderBatch> {
    this.started ??= this.start();
    return {
      next: async () => {
        // The previous batch is done with: its partition may fetch again.
        this.lastTaken?.resolve();
        const item = await this.queue.next();
        if (item.done) return { value: undefined, done: true };
        this.lastTaken = item.value.taken;
        const b = item.value.batch;
        this.positions.set(b.partition, b.nextOffset);
        return { value: b, done: false };
      },
      return: async () => {
        this.close();
        return { value: undefined, done: true };
      },
    };
  }

  /** Every record, one at a time. */
  async *records(): AsyncGenerator<ConsumedRecord> {
    for await (const batch of this) yield* batch.records;
  }

  private async start(): Promise<void> {
    const { topic } = this.options;
    let partitions: number[];
    if (this.options.partitions === undefined) {
      const t = await this.runnel.topics.describe(topic);
      partitions = Array.from({ length: t.partitions }, (_, i) => i);
    } else partitions = Array.isArray(this.options.partitions) ? this.options.partitions : [this.options.partitions];
    const from = this.options.from ?? 'latest';
    const resume =
      typeof from === 'object' && 'resume' in from
        ? typeof from.resume === 'string'
          ? Object.fromEntries(
              from.resume
                .split(',')
                .filter(Boolean)
                .map((pair) => pair.split(':').map(Number) as [number, number]),
            )
          : from.resume
        : undefined;
    for (const p of partitions) {
      void this.loop(p, resume, from).catch((error) => {
        if (!this.stop.signal.aborted) this.queue.fail(error);
      });
    }
  }

  private async loop(partition: number, resume: Record<number, number> | undefined, from: ReaderStart) {
    const signal = this.stop.signal;
    let offset: number | 'earliest' | 'latest';
    if (resume) offset = resume[partition] ?? 'earliest';
    else if (typeof from === 'string') offset = from;
    else if ('offset' in from) offset = from.offset;
    else if ('timestamp' in from)
      offset = await this.runnel.offsetForTimestamp(this.options.topic, partition, from.timestamp);
    else offset = 'earliest';
    for (let attempt = 0; !signal.aborted; ) {
      let result: FetchResult;
      try {
        result = await this.source.next(partition, offset, signal);
        attempt = 0;
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof RunnelError && error.code === 'offset_out_of_range' && typeof offset === 'number') {
          if (this.options.onOutOfRange === 'fail') throw error;
          if (error.logStartOffset !== undefined && offset < error.logStartOffset) {
            offset = error.logStartOffset;
            continue;
          }
          throw error;
        }
        if (error instanceof RunnelError && error.retriable) {
          await sleep(backoffDelay(attempt++, {}, error.retryAfterMs), signal).catch(() => {});
          continue;
        }
        throw error;
      }
      offset = result.nextOffset;
      if (result.records.length === 0) {
        this.positions.set(partition, result.nextOffset);
        // Without a long poll, an idle partition is asked again after a pause, not in a tight loop.
        if (this.options.waitMs === 0) await sleep(200, signal).catch(() => {});
        continue;
      }
      const taken = deferred();
      this.queue.push({ batch: { ...result, topic: this.options.topic, partition }, taken });
      await Promise.race([taken.promise, this.stopped]);
    }
  }
}
