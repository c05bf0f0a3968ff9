import type { ProduceInput, Runnel } from './client';
import { encodeProduceBody } from './client';
import { byteLength } from './encoding';
import { checkOption, RunnelError } from './errors';
import { type BackoffOptions, backoffDelay, seg, sleep } from './http';
import { partitionForKey } from './partitioner';
import type { Header, ProducerRecord, RecordMetadata } from './types';

/**
 * Producer defaults, from the cost model: a request costs the same whether it carries
 * 1 KiB or 1 MiB (API Gateway, Lambda invocation, DynamoDB writes are per request), so
 * the price per GB falls with request size until about 1 MiB — $3.82/GB ingested at
 * 1 KiB per request, $0.0113/GB at 1 MiB. 1 MiB batches stay well inside the 6 MiB
 * request limit even base64-encoded, and `lingerMs` of 10 waits just long enough to fill
 * them under load without adding latency a person would notice.
 */
export const PRODUCER_DEFAULTS = {
  lingerMs: 10,
  batchMaxBytes: 1024 * 1024,
  batchMaxRecords: 10_000,
  maxBufferedBytes: 64 * 1024 * 1024,
  maxInFlightRequests: 32,
  deliveryTimeoutMs: 120_000,
  metadataMaxAgeMs: 300_000,
  idempotent: true,
} as const;

/** Options of {@link Producer}. Every option has a default; out-of-range values throw. */
export interface ProducerOptions {
  /** Milliseconds a batch waits for more records before it is sent. @default 10 */
  lingerMs?: number;
  /** A batch is sent once it holds this many bytes of keys, values and headers. @default 1048576 (1 MiB) */
  batchMaxBytes?: number;
  /** A batch is sent once it holds this many records (the server takes at most 10,000 per request). @default 10000 */
  batchMaxRecords?: number;
  /** Bytes of records buffered but not yet acknowledged; beyond it {@link Producer.send} waits. @default 67108864 (64 MiB) */
  maxBufferedBytes?: number;
  /** Produce requests in flight at once over all partitions (one per partition at most, which keeps order). @default 32 */
  maxInFlightRequests?: number;
  /** A record fails once this long has passed since it was batched without success. @default 120000 */
  deliveryTimeoutMs?: number;
  /** How often the partition count of a topic is looked up again. @default 300000 */
  metadataMaxAgeMs?: number;
  /**
   * Idempotent produce: each partition's batches carry a producer id and a sequence, so a
   * retried batch is answered with its first offsets and never appended twice. @default true
   */
  idempotent?: boolean;
  /** Backoff between retries (a server's `Retry-After` is honoured on top). @default { initialMs: 100, maxMs: 5000 } */
  retryBackoff?: BackoffOptions;
  /** The prefix of this producer's ids. @default random */
  producerId?: string;
}

/** A record buffered by {@link Producer.append}: `acked` settles when the service has it durably. */
export interface PendingRecord {
  /** Resolves with where the record was appended, or rejects with a {@link RunnelError}. */
  acked: Promise<RecordMetadata>;
}

interface Pending {
  topic: string;
  input: ProduceInput;
  key: ProducerRecord['key'];
  size: number;
  resolve: (m: RecordMetadata) => void;
  reject: (e: unknown) => void;
  admitted: () => void;
  acked: Promise<RecordMetadata>;
}

interface Batch {
  records: Pending[];
  bytes: number;
  createdAt: number;
  ready: boolean;
  /** Its `lingerMs` has passed: it goes as soon as its partition has no request in flight. */
  lingered: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
}

interface PartitionQueue {
  topic: string;
  partition: number;
  batches: Batch[];
  inFlight: boolean;
  waitingForSlot: boolean;
  epoch: number;
  sequence: number;
}

interface TopicState {
  partitions: number | undefined;
  loading: Promise<void> | undefined;
  fetchedAt: number;
  sticky: number;
  queues: Map<number, PartitionQueue>;
}

const randomId = (): string => {
  const bytes = new Uint8Array(8);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
};

const isInt = (n: unknown, min: number): n is number => Number.isInteger(n) && (n as number) >= min;

/**
 * Batches records across calls into about one request per MiB per partition, partitions
 * them client-side exactly as the server would (murmur2 for keys, sticky for keyless),
 * and retries with backoff without ever reordering or duplicating a partition's records.
 *
 * Every partition sends one request at a time and has its own producer id and sequence,
 * so a slow or failing partition never stalls another, a retry is always of the
 * partition's latest sequence (answered with its original offsets if it had landed), and
 * a batch that finally fails moves the partition to a new producer id.
 *
 * @example
 * ```ts
 * const producer = runnel.producer();
 * const { partition, offset } = await producer.send({ topic: 'orders', key: 'user-42', value: 'created' });
 * await producer.close();
 * ```
 */
export class Producer {
  private readonly runnel: Runnel;
  private readonly options: Required<Omit<ProducerOptions, 'retryBackoff' | 'producerId'>> & {
    retryBackoff: BackoffOptions;
  };
  private readonly baseId: string;
  private readonly topics = new Map<string, TopicState>();
  private readonly intake: Pending[] = [];
  private readonly outstanding = new Set<Pending>();
  private readonly waitingForSlot: PartitionQueue[] = [];
  private bufferedBytes = 0;
  private inFlight = 0;
  private flushing = 0;
  private closed = false;

  constructor(runnel: Runnel, options: ProducerOptions = {}) {
    const o = { ...PRODUCER_DEFAULTS, retryBackoff: {}, ...options };
    checkOption(isInt(o.lingerMs, 0), 'lingerMs must be an integer ≥ 0.');
    checkOption(isInt(o.batchMaxBytes, 1), 'batchMaxBytes must be an integer ≥ 1.');
    checkOption(isInt(o.batchMaxRecords, 1) && o.batchMaxRecords <= 10_000, 'batchMaxRecords must be 1..10000.');
    checkOption(isInt(o.maxBufferedBytes, o.batchMaxBytes), 'maxBufferedBytes must be an integer ≥ batchMaxBytes.');
    checkOption(isInt(o.maxInFlightRequests, 1), 'maxInFlightRequests must be an integer ≥ 1.');
    checkOption(isInt(o.deliveryTimeoutMs, 1), 'deliveryTimeoutMs must be a positive integer.');
    checkOption(isInt(o.metadataMaxAgeMs, 0), 'metadataMaxAgeMs must be an integer ≥ 0.');
    checkOption(typeof o.idempotent === 'boolean', 'idempotent must be a boolean.');
    checkOption(
      options.producerId === undefined || /^[a-zA-Z0-9._-]{1,200}$/.test(options.producerId),
      'producerId must be 1-200 characters of [a-zA-Z0-9._-].',
    );
    this.runnel = runnel;
    this.options = o;
    this.baseId = options.producerId ?? randomId();
  }

  /** Bytes of records accepted and not yet acknowledged or failed. */
  get buffered(): number {
    return this.bufferedBytes;
  }

  /**
   * Sends one record: resolves with its topic, partition, offset and timestamp once it is
   * durable. Calls are batched; do not await each one in turn if you want throughput —
   * start many, then await them (or use {@link Producer.append} for backpressure).
   */
  send(record: ProducerRecord): Promise<RecordMetadata> {
    try {
      return this.enqueue(record).acked;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Sends several records; resolves when all are durable, in input order. */
  sendBatch(records: ProducerRecord[]): Promise<RecordMetadata[]> {
    return Promise.all(records.map((r) => this.send(r)));
  }

  /**
   * Buffers a record and resolves once it is buffered (waiting while `maxBufferedBytes`
   * are in use): the way to stream records with bounded memory. The returned `acked`
   * settles when the record is durable.
   */
  append(record: ProducerRecord): Promise<PendingRecord> {
    let pending: Pending;
    try {
      pending = this.enqueue(record);
    } catch (error) {
      return Promise.reject(error);
    }
    // The caller may look at `acked` later (or never): don't report its rejection as unhandled.
    pending.acked.catch(() => {});
    return new Promise((resolve) => {
      const admitted = pending.admitted;
      pending.admitted = () => {
        admitted();
        resolve({ acked: pending.acked });
      };
      if (!this.intake.includes(pending)) pending.admitted();
    });
  }

  /** Sends every buffered record now (ignoring `lingerMs`) and waits until all of them are settled. */
  async flush(): Promise<void> {
    this.flushing++;
    try {
      const all = [...this.outstanding].map((p) => p.acked);
      for (const topic of this.topics.values()) for (const q of topic.queues.values()) this.markReady(q);
      await Promise.allSettled(all);
    } finally {
      this.flushing--;
    }
  }

  /** Flushes, then refuses further sends. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.outstanding.size > 0) await this.flush();
  }

  private enqueue(record: ProducerRecord): Pending {
    if (this.closed) throw new RunnelError('closed', 0, 'The producer is closed.', { retriable: false });
    checkRecord(record);
    const input: ProduceInput = {};
    if (record.key !== undefined) input.key = record.key;
    if (record.value !== undefined) input.value = record.value;
    if (record.headers !== undefined) input.headers = record.headers;
    if (record.partition !== undefined) input.partition = record.partition;
    if (record.timestamp !== undefined) input.timestamp = record.timestamp;
    let size = byteLength(record.key) + byteLength(record.value);
    for (const h of record.headers ?? []) size += byteLength(h.key) + byteLength(h.value);
    let resolve!: (m: RecordMetadata) => void;
    let reject!: (e: unknown) => void;
    const acked = new Promise<RecordMetadata>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const pending: Pending = {
      topic: record.topic,
      input,
      key: record.key,
      size: Math.max(1, size),
      resolve,
      reject,
      admitted: () => {},
      acked,
    };
    this.outstanding.add(pending);
    this.intake.push(pending);
    this.pump();
    return pending;
  }

  /** Moves records from the intake into partition batches, in call order, while there is room. */
  private pump(): void {
    while (this.intake.length > 0) {
      const next = this.intake[0] as Pending;
      if (this.bufferedBytes > 0 && this.bufferedBytes + next.size > this.options.maxBufferedBytes) return;
      const topic = this.topicState(next.topic);
      if (topic.partitions === undefined) {
        this.loadMetadata(next.topic, topic);
        return;
      }
      if (this.options.metadataMaxAgeMs > 0 && Date.now() - topic.fetchedAt > this.options.metadataMaxAgeMs) {
        this.loadMetadata(next.topic, topic); // in the background; records go on with the count known
      }
      this.intake.shift();
      this.bufferedBytes += next.size;
      next.admitted();
      const partition =
        next.input.partition ??
        (next.key != null ? partitionForKey(next.key, topic.partitions) : topic.sticky % topic.partitions);
      this.addToBatch(topic, next.topic, partition, next);
    }
  }

  private topicState(name: string): TopicState {
    let t = this.topics.get(name);
    if (!t) {
      t = {
        partitions: undefined,
        loading: undefined,
        fetchedAt: 0,
        sticky: Math.floor(Math.random() * 1_000_000),
        queues: new Map(),
      };
      this.topics.set(name, t);
    }
    return t;
  }

  private loadMetadata(name: string, topic: TopicState): void {
    if (topic.loading) return;
    topic.loading = (async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          const t = await this.runnel.request<{ partitions: number }>('GET', `/v1/topics/${seg(name)}`);
          topic.partitions = t.partitions;
          topic.fetchedAt = Date.now();
          return;
        } catch (error) {
          const retriable = error instanceof RunnelError && error.retriable && attempt < 10;
          if (!retriable) {
            if (topic.partitions !== undefined) return; // a failed refresh keeps the count we have
            this.failIntake(name, error);
            return;
          }
          await sleep(
            backoffDelay(
              attempt,
              this.options.retryBackoff,
              error instanceof RunnelError ? error.retryAfterMs : undefined,
            ),
          );
        }
      }
    })().finally(() => {
      topic.loading = undefined;
      this.pump();
    });
  }

  private failIntake(topic: string, error: unknown): void {
    for (let i = this.intake.length - 1; i >= 0; i--) {
      const p = this.intake[i] as Pending;
      if (p.topic !== topic) continue;
      this.intake.splice(i, 1);
      this.outstanding.delete(p);
      p.admitted();
      p.reject(error);
    }
  }

  private addToBatch(topic: TopicState, name: string, partition: number, record: Pending): void {
    let q = topic.queues.get(partition);
    if (!q) {
      q = { topic: name, partition, batches: [], inFlight: false, waitingForSlot: false, epoch: 0, sequence: 0 };
      topic.queues.set(partition, q);
    }
    let batch = q.batches[q.batches.length - 1];
    if (
      !batch ||
      batch.ready ||
      (batch.records.length > 0 &&
        (batch.bytes + record.size > this.options.batchMaxBytes ||
          batch.records.length >= this.options.batchMaxRecords))
    ) {
      if (batch && !batch.ready) this.closeBatch(topic, batch);
      batch = { records: [], bytes: 0, createdAt: Date.now(), ready: false, lingered: false, timer: undefined };
      q.batches.push(batch);
      const queue = q;
      const created = batch;
      if (this.options.lingerMs > 0 && this.flushing === 0) {
        // Linger makes the batch eligible to go, it does not seal it: while the partition's
        // previous request is in flight the batch keeps filling (as Kafka's accumulator does),
        // so a slow answer means bigger requests, not more of them.
        created.timer = setTimeout(() => {
          created.timer = undefined;
          created.lingered = true;
          this.drain(queue);
        }, this.options.lingerMs);
      } else {
        // No linger (or a flush): the batch takes what this same turn adds (one
        // `sendBatch` call), then goes.
        queueMicrotask(() => {
          this.closeBatch(topic, created);
          this.drain(queue);
        });
      }
    }
    batch.records.push(record);
    batch.bytes += record.size;
    if (batch.bytes >= this.options.batchMaxBytes || batch.records.length >= this.options.batchMaxRecords) {
      this.closeBatch(topic, batch);
    }
    this.drain(q);
  }

  /** A batch stops taking records; a keyless record's sticky partition moves on (Kafka's sticky partitioner). */
  private closeBatch(topic: TopicState, batch: Batch): void {
    if (batch.ready) return;
    batch.ready = true;
    if (batch.timer) clearTimeout(batch.timer);
    batch.timer = undefined;
    topic.sticky++;
  }

  private markReady(q: PartitionQueue): void {
    const topic = this.topics.get(q.topic);
    for (const b of q.batches) if (!b.ready && topic) this.closeBatch(topic, b);
    this.drain(q);
  }

  private drain(q: PartitionQueue): void {
    if (q.inFlight || q.waitingForSlot) return;
    const head = q.batches[0];
    if (!head || !(head.ready || head.lingered)) return;
    if (this.inFlight >= this.options.maxInFlightRequests) {
      // A lingered batch keeps filling while it waits for a request slot.
      q.waitingForSlot = true;
      this.waitingForSlot.push(q);
      return;
    }
    const topic = this.topics.get(q.topic);
    if (!head.ready && topic) this.closeBatch(topic, head);
    q.batches.shift();
    q.inFlight = true;
    this.inFlight++;
    void this.sendBatchRequest(q, head).finally(() => {
      q.inFlight = false;
      this.inFlight--;
      const waiting = this.waitingForSlot.shift();
      if (waiting) {
        waiting.waitingForSlot = false;
        this.drain(waiting);
      }
      this.drain(q);
      this.pump();
    });
  }

  /**
   * One batch to its end: sent, and on a retriable failure sent again with the identical
   * body (same producer id and sequence), so a batch that landed but whose answer was
   * lost is answered with its original offsets instead of being appended twice.
   */
  private async sendBatchRequest(q: PartitionQueue, batch: Batch): Promise<void> {
    const idempotent = this.options.idempotent;
    const body = encodeProduceBody(
      batch.records.map((r) => ({ ...r.input, partition: q.partition })),
      idempotent ? { producerId: `${this.baseId}-${q.partition}-${q.epoch}`, sequence: q.sequence } : {},
    );
    if (idempotent) q.sequence++;
    const deadline = batch.createdAt + this.options.deliveryTimeoutMs;
    const path = `/v1/topics/${seg(q.topic)}/records`;
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await this.runnel.transport.request<{
          offsets: { partition: number; offset: number; timestamp: number }[];
        }>('POST', path, { body });
        batch.records.forEach((r, i) => {
          const o = res.body.offsets[i];
          this.settle(r);
          if (o) r.resolve({ topic: q.topic, partition: o.partition, offset: o.offset, timestamp: o.timestamp });
          else r.reject(new RunnelError('internal', 200, 'The service answered fewer offsets than records.'));
        });
        return;
      } catch (error) {
        const e = error instanceof RunnelError ? error : new RunnelError('network', 0, String(error), { cause: error });
        // With a sequence every retry is safe (the server answers a replay with its first
        // offsets), so a 500 is retried too; without one only what the server calls retriable.
        const retriable = e.retriable || (idempotent && e.status >= 500);
        const delay = backoffDelay(attempt, this.options.retryBackoff, e.retryAfterMs);
        if (retriable && Date.now() + delay < deadline) {
          await sleep(delay);
          continue;
        }
        // The batch's fate may be unknown: start a new producer id for this partition, so
        // the next batch cannot be refused as out of order.
        if (idempotent) {
          q.epoch++;
          q.sequence = 0;
        }
        for (const r of batch.records) {
          this.settle(r);
          r.reject(e);
        }
        return;
      }
    }
  }

  private settle(r: Pending): void {
    this.outstanding.delete(r);
    this.bufferedBytes -= r.size;
  }
}

const isData = (v: unknown): boolean => v === null || typeof v === 'string' || v instanceof Uint8Array;

const checkRecord = (r: ProducerRecord): void => {
  checkOption(typeof r === 'object' && r !== null, 'a record is an object.');
  checkOption(typeof r.topic === 'string' && r.topic.length > 0, 'record.topic must be a non-empty string.');
  checkOption(r.key === undefined || isData(r.key), 'record.key must be a string, a Uint8Array or null.');
  checkOption(r.value === undefined || isData(r.value), 'record.value must be a string, a Uint8Array or null.');
  checkOption(
    r.partition === undefined || (Number.isInteger(r.partition) && r.partition >= 0),
    'record.partition must be an integer ≥ 0.',
  );
  checkOption(
    r.timestamp === undefined || (Number.isInteger(r.timestamp) && r.timestamp >= 0),
    'record.timestamp must be ms since the epoch.',
  );
  checkOption(
    r.headers === undefined ||
      (Array.isArray(r.headers) && r.headers.every((h: Header) => typeof h?.key === 'string' && isData(h.value))),
    'record.headers must be [{ key: string, value: string | Uint8Array | null }].',
  );
};
