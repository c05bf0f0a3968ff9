import { invalidRequest } from '#shared/domain/errors';
import type { StoredRecord } from '#shared/domain/records';
import type { Topic } from '#shared/ports/metadata-store';
import type { FetchResult, FetchService, OffsetSpec } from './fetch';

/**
 * Server-Sent Event streams of records: a long poll that never returns, cut into events.
 * The event id is the stream's position (the next offset, or the next offset of every
 * partition), so a reconnect with `Last-Event-ID` continues exactly where the client's
 * last complete event left off, on any instance: nothing skipped, nothing repeated.
 *
 * A source produces one event per `next()` call and nothing ahead of it: the HTTP layer
 * pulls the next event only when the client has taken the previous one, so a slow or
 * stalled client holds at most one fetch result per partition in memory.
 */
export type StreamEvent =
  | { event: 'records'; id: string; records: StoredRecord[]; partition: number; result: FetchResult }
  | { event: 'ping'; id: string; highWatermarks: { partition: number; highWatermark: number }[] };

export interface RecordEventSource {
  /** The next event; waits at most until `until` (ms on the stream's clock) before answering a ping. */
  next(until: number): Promise<StreamEvent>;
}

export interface StreamReadOptions {
  maxRecords: number;
  maxBytes: number;
}

interface Cursor {
  partition: number;
  offset: number;
  highWatermark: number;
}

const DECIMAL = /^\d{1,16}$/;
const POSITIONS = /^\d{1,4}:\d{1,16}(,\d{1,4}:\d{1,16})*$/;

/** `15` → 15: the Last-Event-ID of a partition stream. */
export const parsePartitionEventId = (id: string): number => {
  const offset = Number(id);
  if (!DECIMAL.test(id) || !Number.isSafeInteger(offset)) {
    throw invalidRequest('Last-Event-ID of a partition stream is the next offset, a whole number.');
  }
  return offset;
};

/** `0:15,1:7` → {0: 15, 1: 7}: the Last-Event-ID of a topic stream. */
export const parseTopicEventId = (id: string, partitions: number): Map<number, number> => {
  if (!POSITIONS.test(id)) {
    throw invalidRequest('Last-Event-ID of a topic stream is "<partition>:<next offset>,...", e.g. "0:15,1:7".');
  }
  const positions = new Map<number, number>();
  for (const pair of id.split(',')) {
    const [p, o] = pair.split(':').map(Number) as [number, number];
    if (p >= partitions || !Number.isSafeInteger(o) || positions.has(p)) {
      throw invalidRequest(`Last-Event-ID names partition ${p} twice, or one the topic does not have.`);
    }
    positions.set(p, o);
  }
  return positions;
};

export const topicEventId = (cursors: readonly Cursor[]) => cursors.map((c) => `${c.partition}:${c.offset}`).join(',');

/** Where each partition of a topic stream starts. */
export type TopicStart = { kind: 'offset'; offset: 'earliest' | 'latest' } | { kind: 'timestamp'; timestamp: number };

/**
 * Follows one partition or several. The first fetch of each partition runs in `open`,
 * before the response starts, so a bad offset is an ordinary problem response (416).
 */
export class RecordStreams {
  constructor(private readonly fetcher: FetchService) {}

  /** A partition stream: ids are the next offset. */
  async partition(
    topic: Topic,
    partition: number,
    from: OffsetSpec,
    read: StreamReadOptions,
    clock: () => number,
  ): Promise<RecordEventSource> {
    const follower = await this.follow(topic, [{ partition, from }], read, clock);
    return {
      next: async (until) => {
        const event = await follower.next(until);
        return { ...event, id: String(follower.cursors[0]?.offset) };
      },
    };
  }

  /**
   * A topic stream: every partition merged, ids `0:15,1:7,2:0`. Partitions missing from
   * `resume` (added to the topic since) start at their log start.
   */
  async topic(
    topic: Topic,
    start: TopicStart,
    resume: Map<number, number> | undefined,
    read: StreamReadOptions,
    clock: () => number,
  ): Promise<RecordEventSource> {
    const starts: { partition: number; from: OffsetSpec }[] = [];
    for (let partition = 0; partition < topic.partitions; partition++) {
      let from: OffsetSpec;
      if (resume) from = resume.get(partition) ?? 'earliest';
      else if (start.kind === 'offset') from = start.offset;
      else from = await this.fetcher.offsetForTimestamp(topic, partition, start.timestamp);
      starts.push({ partition, from });
    }
    return this.follow(topic, starts, read, clock);
  }

  private async follow(
    topic: Topic,
    starts: { partition: number; from: OffsetSpec }[],
    read: StreamReadOptions,
    clock: () => number,
  ) {
    // The first fetches validate the offsets and resolve earliest/latest.
    const first = await Promise.all(
      starts.map(({ partition, from }) => this.fetcher.fetch(topic, partition, { ...read, offset: from, waitMs: 0 })),
    );
    const cursors: Cursor[] = starts.map(({ partition, from }, i) => {
      const result = first[i] as FetchResult;
      const offset = typeof from === 'number' ? from : (result.records[0]?.offset ?? result.nextOffset);
      return { partition, offset, highWatermark: result.highWatermark };
    });
    // One fetch per partition at most, in flight or finished and not yet sent.
    const pending = new Map<number, Promise<{ partition: number; result: FetchResult }>>();
    first.forEach((result, i) => {
      const partition = (starts[i] as { partition: number }).partition;
      if (result.records.length > 0) pending.set(partition, Promise.resolve({ partition, result }));
    });
    let opened = false;

    const ping = (): StreamEvent => ({
      event: 'ping',
      id: topicEventId(cursors),
      highWatermarks: cursors.map((c) => ({ partition: c.partition, highWatermark: c.highWatermark })),
    });

    const next = async (until: number): Promise<StreamEvent> => {
      // The first event says where the stream stands, so even a client cut off before any
      // record resumes from the position `latest` resolved to.
      if (!opened && pending.size === 0) {
        opened = true;
        return ping();
      }
      opened = true;
      for (;;) {
        const waitMs = until - clock();
        for (const cursor of cursors) {
          if (pending.has(cursor.partition)) continue;
          if (waitMs <= 0) continue;
          const { partition, offset } = cursor;
          const fetched = this.fetcher
            .fetch(topic, partition, { ...read, offset, waitMs })
            .then((result) => ({ partition, result }));
          // A stream the client left may never await this fetch: its failure is not unhandled.
          fetched.catch(() => {});
          pending.set(partition, fetched);
        }
        if (pending.size === 0) return ping();
        const { partition, result } = await Promise.race(pending.values());
        pending.delete(partition);
        const cursor = cursors.find((c) => c.partition === partition) as Cursor;
        cursor.highWatermark = Math.max(cursor.highWatermark, result.highWatermark);
        if (result.records.length > 0) {
          cursor.offset = result.nextOffset;
          return { event: 'records', id: topicEventId(cursors), records: result.records, partition, result };
        }
        if (until - clock() <= 0) return ping();
      }
    };
    return { next, cursors };
  }
}
