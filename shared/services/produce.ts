import { randomBytes } from 'node:crypto';
import { INLINE_BATCH_MAX_BYTES, type Limits, SEGMENT_PUT_HEDGE_AFTER_MS } from '#shared/constants';
import { partitionNotFound, RunnelError, unavailable } from '#shared/domain/errors';
import { partitionForKey } from '#shared/domain/partitioner';
import { type ProducedRecord, recordSize } from '#shared/domain/records';
import { segmentKey, twinSegmentKey } from '#shared/domain/retention';
import { encodeBatch } from '#shared/domain/segment-codec';
import type { CommittedBatch } from '#shared/ports/idempotency-store';
import type { Topic } from '#shared/ports/metadata-store';
import type { SegmentStore } from '#shared/ports/segment-store';
import { hedged } from './hedge';
import { AppendContentionError, LeaseExpiredError, type PartitionLog, type PendingEntry } from './partition-log';

/** A record to produce, with the partition the producer asked for, if any. */
export interface ProduceInput extends ProducedRecord {
  partition: number | undefined;
}

export interface ProducedOffset {
  partition: number;
  offset: number;
  timestamp: number;
}

/** When a segment PUT gets its hedged twin (shared/services/hedge.ts). */
export interface SegmentHedge {
  afterMs: number;
  /** The hedge's timer (tests fire it by hand). @default a timeout */
  delay?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export interface ProduceStats {
  /** Segment objects written (0 or 1). */
  objectsWritten: number;
  partitions: number;
  /** Offset reservations over all partitions (= partitions unless one was fenced or given up). */
  appendAttempts: number;
}

export interface ProduceResult {
  offsets: ProducedOffset[];
  /** Where each partition's batch was committed. */
  committed: Map<number, CommittedBatch>;
  stats: ProduceStats;
}

export interface ProduceOptions {
  limits: Limits;
  /** @default INLINE_BATCH_MAX_BYTES */
  inlineMaxBytes?: number;
  /** Random source for the sticky partition of keyless records. @default Math.random */
  random?: () => number;
  /**
   * Tags every index entry of this request: idempotent retries look for it, and an append
   * whose acknowledgement was lost is recognised by it. @default a random id
   */
  writerId?: string;
  /** No append is sent at or after this time (the writer's lease; see docs/exactly-once.md). */
  deadline?: number;
  /** Plan with this partition count instead of the topic's (a retry plans as the first attempt did). */
  partitionCount?: number;
  /** Partitions already committed by an earlier attempt of the same request: not appended again. */
  committed?: ReadonlyMap<number, CommittedBatch>;
  /**
   * Awaited before anything is written (the segment PUT, the offset reservations, the
   * appends): the quota admission.
   */
  writeGate?: Promise<unknown>;
  /**
   * Awaited before the appends' entry puts only: a check that may run alongside the segment
   * PUT and the reservations (the topic's validation when it was planned from a cache); a
   * reservation taken meanwhile is given back as a gap marker when it refuses.
   */
  commitGate?: Promise<unknown>;
  /** Called after each partition commits; lets tests stop a writer between commits. */
  onPartitionCommitted?: (partition: number) => Promise<void> | void;
}

/**
 * Produce: route records to partitions, write every partition's batch with at most one
 * S3 PUT for the whole request (none when the batches are small enough to live inline
 * in the index), then commit one index entry per partition. The answer is given only
 * after every commit, so an acknowledged record is durable.
 */
export class ProduceService {
  constructor(
    private readonly log: PartitionLog,
    private readonly segments: SegmentStore,
    private readonly clock: () => number,
    private readonly hedge: SegmentHedge = { afterMs: SEGMENT_PUT_HEDGE_AFTER_MS },
  ) {}

  /** Assigns each record its partition (Kafka's default partitioner). */
  static assignPartitions(topic: Topic, records: readonly ProduceInput[], random: () => number): number[] {
    // Keyless records of one request stick to one partition (Kafka's sticky partitioner).
    const sticky = Math.floor(random() * topic.partitions);
    return records.map((record) => {
      if (record.partition !== undefined) {
        if (record.partition >= topic.partitions)
          throw partitionNotFound(topic.name, record.partition, topic.partitions);
        return record.partition;
      }
      if (record.key !== null) return partitionForKey(record.key, topic.partitions);
      return sticky;
    });
  }

  static checkLimits(records: readonly ProduceInput[], limits: Limits): void {
    if (records.length > limits.maxRecordsPerProduce) {
      throw new RunnelError(
        'request_too_large',
        `A produce request holds at most ${limits.maxRecordsPerProduce} records; this one has ${records.length}.`,
      );
    }
    records.forEach((record, i) => {
      const size = recordSize(record);
      if (size > limits.maxRecordBytes) {
        throw new RunnelError(
          'record_too_large',
          `Record ${i} is ${size} bytes (key + value + headers, decoded); the limit is ${limits.maxRecordBytes}.`,
          { index: i, size, limit: limits.maxRecordBytes },
        );
      }
    });
  }

  async produce(topic: Topic, records: readonly ProduceInput[], options: ProduceOptions): Promise<ProduceResult> {
    ProduceService.checkLimits(records, options.limits);
    const planned = options.partitionCount === undefined ? topic : { ...topic, partitions: options.partitionCount };
    const partitionOf = ProduceService.assignPartitions(planned, records, options.random ?? Math.random);
    const writerId = options.writerId ?? randomBytes(9).toString('base64url');
    const committed = new Map<number, CommittedBatch>(options.committed ?? []);

    // Group by partition, keeping input order within each partition.
    const byPartition = new Map<number, number[]>();
    partitionOf.forEach((partition, i) => {
      const list = byPartition.get(partition);
      if (list) list.push(i);
      else byPartition.set(partition, [i]);
    });

    const allBatches = [...byPartition.entries()].map(([partition, indexes]) => {
      const batchRecords = indexes.map((i) => records[i] as ProduceInput);
      const bytes = encodeBatch(batchRecords);
      let maxTimestamp = Number.NEGATIVE_INFINITY;
      let sizeBytes = 0;
      let needsAppendTime = false;
      for (const r of batchRecords) {
        sizeBytes += recordSize(r);
        if (r.timestamp === undefined) needsAppendTime = true;
        else maxTimestamp = Math.max(maxTimestamp, r.timestamp);
      }
      return { partition, indexes, bytes, sizeBytes, maxTimestamp, needsAppendTime };
    });
    const batches = allBatches.filter((b) => !committed.has(b.partition));

    const totalBytes = batches.reduce((n, b) => n + b.bytes.byteLength, 0);
    const inline = totalBytes <= (options.inlineMaxBytes ?? INLINE_BATCH_MAX_BYTES);
    if (!inline && options.deadline !== undefined && this.clock() >= options.deadline) {
      throw new LeaseExpiredError(options.deadline);
    }
    // Inline batches live in their index entries; otherwise one object holds the whole
    // request, whatever the number of partitions.
    const objectKey = inline || batches.length === 0 ? undefined : segmentKey(topic, this.clock());
    const pending = new Map<number, PendingEntry>();
    let at = 0;
    for (const b of batches) {
      pending.set(b.partition, {
        recordCount: b.indexes.length,
        maxTimestamp: b.maxTimestamp,
        usesAppendTime: b.needsAppendTime,
        sizeBytes: b.sizeBytes,
        location: objectKey
          ? { kind: 'object', objectKey, byteOffset: at, byteLength: b.bytes.byteLength }
          : { kind: 'inline', data: b.bytes },
      });
      at += b.bytes.byteLength;
    }
    const refOf = (partition: number) => ({ tenantId: topic.tenantId, topicId: topic.topicId, partition });
    // Side by side once the write gate (the quota) admitted the request: every partition's
    // reservation, the segment PUT, the commit gate. Each put waits for all of them (and
    // observes every rejection).
    const put = (async () => {
      await options.writeGate;
      if (!objectKey) return;
      const body = Buffer.concat(
        batches.map((b) => b.bytes),
        at,
      );
      // Hedged: a PUT still unanswered after hedge.afterMs gets a twin under its own key
      // (never two writers on one key); the entries point at whichever answered first, and
      // the other object, if it lands, is an orphan the maintenance job deletes.
      const written = await hedged(
        async (_signal, attempt) => {
          const key = attempt === 0 ? objectKey : twinSegmentKey(objectKey);
          await this.segments.put(key, body);
          return key;
        },
        this.hedge.afterMs,
        this.hedge.delay,
      );
      if (written === objectKey) return;
      for (const entry of pending.values()) {
        if (entry.location.kind === 'object') entry.location = { ...entry.location, objectKey: written };
      }
    })();
    const gate = Promise.all([put, options.commitGate]);
    const objectsWritten = objectKey ? 1 : 0;

    let appendAttempts = 0;
    // Every append settles before the request fails: an attempt that gives up must know
    // it has no call still in flight (docs/exactly-once.md, "early release").
    const settled = await Promise.allSettled(
      batches.map(async (b) => {
        const entry = pending.get(b.partition) as PendingEntry;
        entry.writerId = writerId;
        const result = await this.log.append(refOf(b.partition), entry, {
          ...(options.deadline === undefined ? {} : { deadline: options.deadline }),
          reserveGate: options.writeGate,
          gate,
        });
        appendAttempts += result.attempts;
        committed.set(b.partition, { baseOffset: result.baseOffset, appendTime: result.appendTime });
        await options.onPartitionCommitted?.(b.partition);
      }),
    );
    if (batches.length === 0) await gate;
    const failure = settled.find((s) => s.status === 'rejected');
    if (failure) {
      const error = failure.reason;
      if (error instanceof AppendContentionError) {
        throw unavailable('The partition is under heavy concurrent writes; retry the request.', 1000, error);
      }
      throw error;
    }
    const offsets = ProduceService.offsetsOf(records, partitionOf, committed);
    return { offsets, committed, stats: { objectsWritten, partitions: batches.length, appendAttempts } };
  }

  /** The answer of a request from where its batches were committed (also rebuilds a replay's answer). */
  static offsetsOf(
    records: readonly ProduceInput[],
    partitionOf: readonly number[],
    committed: ReadonlyMap<number, CommittedBatch>,
  ): ProducedOffset[] {
    const next = new Map<number, number>();
    return records.map((record, i) => {
      const partition = partitionOf[i] as number;
      const batch = committed.get(partition);
      if (!batch) throw new Error(`No committed batch for partition ${partition}`);
      const at = next.get(partition) ?? 0;
      next.set(partition, at + 1);
      return { partition, offset: batch.baseOffset + at, timestamp: record.timestamp ?? batch.appendTime };
    });
  }
}
