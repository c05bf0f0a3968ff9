import { offsetOutOfRange } from '#shared/domain/errors';
import type { StoredRecord } from '#shared/domain/records';
import { retentionCutoff } from '#shared/domain/retention';
import { partitionKey } from '#shared/ports/log-index';
import type { Topic } from '#shared/ports/metadata-store';
import type { AppendNotifier } from './append-notifier';
import type { PartitionBounds, PartitionLog, ReadResult } from './partition-log';
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
}

/** How often a long poll re-reads the partition tail when no in-process wake-up comes. */
export const LONG_POLL_INTERVAL_MS = 100;

export class FetchService {
  constructor(
    private readonly log: PartitionLog,
    private readonly notifier: AppendNotifier,
    private readonly clock: () => number,
  ) {}

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
        this.log.read(ref, from, request, retention),
      ]);
      // A commit may land between the two queries: what was read proves the offset valid.
      const end = Math.max(bounds.highWatermark, read.records.length > 0 ? read.nextOffset : 0);
      if (from < bounds.logStartOffset || from > end) throw offsetOutOfRange(from, bounds.logStartOffset, end);
      // The read ran before an append the bounds query saw: read again rather than answer empty.
      if (read.records.length === 0 && bounds.highWatermark > from) {
        read = await this.log.read(ref, from, request, retention);
      }
    } else {
      bounds = await this.log.bounds(ref, retention);
      from = request.offset === 'earliest' ? bounds.logStartOffset : bounds.highWatermark;
      read =
        from < bounds.highWatermark
          ? await this.log.read(ref, from, request, retention)
          : { records: [], nextOffset: from };
    }

    if (read.records.length === 0 && request.waitMs > 0) {
      // Long poll: cheap strongly consistent reads of the tail until something arrives.
      const deadline = this.clock() + request.waitMs;
      const key = partitionKey(ref);
      let highWatermark = Math.max(bounds.highWatermark, from);
      while (highWatermark <= from) {
        const left = deadline - this.clock();
        if (left <= 0) break;
        await this.notifier.wait(key, Math.min(LONG_POLL_INTERVAL_MS, left));
        highWatermark = await this.log.highWatermark(ref);
      }
      if (highWatermark > from) {
        [bounds, read] = await Promise.all([
          this.log.bounds(ref, retention),
          this.log.read(ref, from, request, retention),
        ]);
      }
    }

    return {
      records: read.records,
      nextOffset: read.nextOffset,
      // Never report a high watermark below what was read.
      highWatermark: Math.max(bounds.highWatermark, read.nextOffset),
      logStartOffset: bounds.logStartOffset,
    };
  }

  /** Kafka's ListOffsets by time: the first offset whose timestamp is >= `timestamp`, else the high watermark. */
  async offsetForTimestamp(topic: Topic, partition: number, timestamp: number): Promise<number> {
    const ref = partitionRef(topic, partition);
    const bounds = await this.log.bounds(ref, topic.retentionMs);
    const cutoff = retentionCutoff(topic.retentionMs, this.clock());
    let from = bounds.logStartOffset;
    while (from < bounds.highWatermark) {
      const found = await this.log.findTimestamp(ref, from, timestamp, cutoff);
      if (found.offset !== undefined) return found.offset;
      if (found.scannedTo <= from) break;
      from = found.scannedTo;
    }
    return bounds.highWatermark;
  }
}
