import { offsetOutOfRange } from '#shared/domain/errors';
import type { StoredRecord } from '#shared/domain/records';
import { retentionCutoff } from '#shared/domain/retention';
import type { Topic } from '#shared/ports/metadata-store';
import { LONG_POLL_INTERVAL_MS, type LongPoll } from './long-poll';
import type { PartitionBounds, PartitionLog } from './partition-log';
import type { PartitionReader, ReadResult } from './partition-reader';
import { partitionRef } from './topics';

export type OffsetSpec = number | 'earliest' | 'latest';

export interface FetchRequest {
  offset: OffsetSpec;
  maxRecords: number;
  maxBytes: number;
  waitMs: number;
}

export interface FetchResult {
  records: StoredRecord[];
  nextOffset: number;
  highWatermark: number;
  logStartOffset: number;
  /** The request long-polled (waited for an append) before it answered. */
  waited: boolean;
}

export class FetchService {
  private readonly log: PartitionLog;
  private readonly reader: PartitionReader;
  private readonly longPoll: LongPoll;
  private readonly clock: () => number;

  constructor(deps: { log: PartitionLog; reader: PartitionReader; longPoll: LongPoll; clock: () => number }) {
    this.log = deps.log;
    this.reader = deps.reader;
    this.longPoll = deps.longPoll;
    this.clock = deps.clock;
  }

  async fetch(topic: Topic, partition: number, request: FetchRequest): Promise<FetchResult> {
    const ref = partitionRef(topic, partition);
    const retention = topic.retentionMs;
    let bounds: PartitionBounds;
    let read: ReadResult;
    let from: number;
    if (typeof request.offset === 'number') {
      // A consumer that knows its offset (the common case): bound the log and read it in
      // the same round trip; the read is discarded if the offset turns out to be invalid.
      from = request.offset;
      [bounds, read] = await Promise.all([
        this.log.bounds(ref, retention),
        this.reader.read(ref, from, request, retention),
      ]);
      // A commit may land between the two queries: what was read proves the offset valid.
      const end = Math.max(bounds.highWatermark, read.records.length > 0 ? read.nextOffset : 0);
      if (from < bounds.logStartOffset || from > end) throw offsetOutOfRange(from, bounds.logStartOffset, end);
      // The read ran before an append the bounds query saw: read again rather than answer empty.
      if (read.records.length === 0 && bounds.highWatermark > from) {
        read = await this.reader.read(ref, from, request, retention);
      }
    } else {
      bounds = await this.log.bounds(ref, retention);
      from = request.offset === 'earliest' ? bounds.logStartOffset : bounds.highWatermark;
      read =
        from < bounds.highWatermark
          ? await this.reader.read(ref, from, request, retention)
          : { records: [], nextOffset: from };
    }

    let waited = false;
    let waitOver = false;
    const waitTimer = request.waitMs > 0 ? setTimeout(() => (waitOver = true), request.waitMs) : undefined;
    if (read.records.length === 0 && request.waitMs > 0) {
      waited = bounds.highWatermark <= from;
      // Long poll: cheap strongly consistent reads of the tail until something arrives.
      const arrived =
        bounds.highWatermark > from || (await this.longPoll.waitForRecords([{ ref, from }], request.waitMs));
      if (arrived) {
        [bounds, read] = await Promise.all([
          this.log.bounds(ref, retention),
          this.reader.read(ref, from, request, retention),
        ]);
      }
      // Stopped at a hole (a writer between its reservation and its put): keep waiting until
      // it fills, readers mark it as a gap (at most the gap bound), or the wait is over.
      while (read.records.length === 0 && read.hole && !waitOver) {
        waited = true;
        await this.longPoll.pause(ref, LONG_POLL_INTERVAL_MS);
        if (waitOver) break;
        read = await this.reader.read(ref, from, request, retention);
      }
    }
    clearTimeout(waitTimer);

    return {
      records: read.records,
      nextOffset: read.nextOffset,
      // Never report a high watermark below what was read.
      highWatermark: Math.max(bounds.highWatermark, read.nextOffset),
      logStartOffset: bounds.logStartOffset,
      waited,
    };
  }

  /** Kafka's ListOffsets by time: the first offset whose timestamp is >= `timestamp`, else the high watermark. */
  async offsetForTimestamp(topic: Topic, partition: number, timestamp: number): Promise<number> {
    const ref = partitionRef(topic, partition);
    const bounds = await this.log.bounds(ref, topic.retentionMs);
    const cutoff = retentionCutoff(topic.retentionMs, this.clock());
    if (bounds.logStartOffset >= bounds.highWatermark) return bounds.highWatermark;
    const found = await this.reader.offsetForTimestamp(ref, bounds.logStartOffset, timestamp, cutoff);
    return found !== undefined && found < bounds.highWatermark ? found : bounds.highWatermark;
  }
}
