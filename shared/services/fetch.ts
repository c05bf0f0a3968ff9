import { offsetOutOfRange } from '#shared/domain/errors';
import type { StoredRecord } from '#shared/domain/records';
import { retentionCutoff } from '#shared/domain/retention';
import { partitionKey } from '#shared/ports/log-index';
import type { Topic } from '#shared/ports/metadata-store';
import type { AppendNotifier } from './append-notifier';
import type { PartitionLog } from './partition-log';
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
    let bounds = await this.log.bounds(ref, topic.retentionMs);
    const from =
      request.offset === 'earliest'
        ? bounds.logStartOffset
        : request.offset === 'latest'
          ? bounds.highWatermark
          : request.offset;
    if (from < bounds.logStartOffset || from > bounds.highWatermark) {
      throw offsetOutOfRange(from, bounds.logStartOffset, bounds.highWatermark);
    }

    if (from === bounds.highWatermark && request.waitMs > 0) {
      // Long poll: cheap strongly consistent reads of the tail until something arrives.
      const deadline = this.clock() + request.waitMs;
      const key = partitionKey(ref);
      let highWatermark = bounds.highWatermark;
      while (highWatermark <= from) {
        const left = deadline - this.clock();
        if (left <= 0) break;
        await this.notifier.wait(key, Math.min(LONG_POLL_INTERVAL_MS, left));
        highWatermark = await this.log.highWatermark(ref);
      }
      if (highWatermark > from) bounds = await this.log.bounds(ref, topic.retentionMs);
    }

    const read =
      from < bounds.highWatermark
        ? await this.log.read(ref, from, request, topic.retentionMs)
        : { records: [], nextOffset: from };
    return {
      records: read.records,
      nextOffset: read.nextOffset,
      // A commit may land between the bounds query and the read; never report less than was read.
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
