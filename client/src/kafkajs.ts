/**
 * `@runnel/client/kafkajs`: the kafkajs 2.x API over Runnel. A kafkajs program runs with
 * only its import and client config changed:
 *
 * ```ts
 * import { Kafka } from '@runnel/client/kafkajs';
 * const kafka = new Kafka({ clientId: 'app', brokers: ['http://127.0.0.1:8080'],
 *   sasl: { mechanism: 'plain', username: 'runnel', password: process.env.RUNNEL_API_KEY } });
 * ```
 *
 * Options with no meaning over HTTP (`acks`, `compression`, `timeout`, `ssl` certificates,
 * replication settings) are accepted and ignored; transactions throw
 * {@link KafkaJSNotImplemented}.
 *
 * @packageDocumentation
 */
import { Runnel } from './client';
import type { ConsumerBatch, Consumer as RunnelConsumer } from './consumer';
import { base64ToBytes } from './encoding';
import { RunnelError } from './errors';
import type { FetchLike } from './http';
import type { Producer as RunnelProducer } from './producer';
import type { ConsumedRecord, Data, Header, ProducerRecord } from './types';

// ---------------------------------------------------------------------------------------
// Bytes: kafkajs hands out Node Buffers. Where Buffer exists (Node, Bun, Deno's node
// compatibility) the facade uses it; elsewhere plain Uint8Arrays.

/** A Node `Buffer` where there is one, else a `Uint8Array`; `toString()` decodes UTF-8 either way. */
export interface KafkaBuffer extends Uint8Array {
  toString(encoding?: string): string;
}

const NodeBuffer = (
  globalThis as unknown as { Buffer?: { from(s: string, enc: string): KafkaBuffer; isBuffer(v: unknown): boolean } }
).Buffer;

const fromBase64 = (s: string | null): KafkaBuffer | null => {
  if (s === null) return null;
  if (NodeBuffer) return NodeBuffer.from(s, 'base64');
  const bytes = base64ToBytes(s) as KafkaBuffer;
  const decoder = new TextDecoder();
  bytes.toString = () => decoder.decode(bytes);
  return bytes;
};

const toData = (v: unknown): Data => {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || v instanceof Uint8Array) return v;
  throw new KafkaJSNonRetriableError(`Invalid message value or key: ${typeof v}; use a string, a Buffer or null.`);
};

// ---------------------------------------------------------------------------------------
// Errors, by kafkajs's class names.

/** kafkajs's base error. */
export class KafkaJSError extends Error {
  /** Whether repeating the call may succeed. */
  readonly retriable: boolean;
  /** kafkajs's help URL (unused). */
  readonly helpUrl: string | undefined = undefined;
  /** The underlying {@link RunnelError} or error. */
  override readonly cause: unknown;
  constructor(e: string | Error, { retriable = true, cause }: { retriable?: boolean; cause?: unknown } = {}) {
    super(typeof e === 'string' ? e : e.message);
    this.name = 'KafkaJSError';
    this.retriable = retriable;
    this.cause = cause ?? (typeof e === 'string' ? undefined : e);
  }
}
/** A non-retriable failure. */
export class KafkaJSNonRetriableError extends KafkaJSError {
  constructor(e: string | Error, options: { cause?: unknown } = {}) {
    super(e, { ...options, retriable: false });
    this.name = 'KafkaJSNonRetriableError';
  }
}
/** A failure the service reported, with Kafka's error type where one matches. */
export class KafkaJSProtocolError extends KafkaJSError {
  /** Kafka's error type, e.g. `UNKNOWN_TOPIC_OR_PARTITION`. */
  readonly type: string;
  /** Kafka's error code. */
  readonly code: number;
  constructor(e: string | Error, { type, code, retriable }: { type: string; code: number; retriable: boolean }) {
    super(e, { retriable });
    this.name = 'KafkaJSProtocolError';
    this.type = type;
    this.code = code;
  }
}
/** An offset outside the log. */
export class KafkaJSOffsetOutOfRange extends KafkaJSProtocolError {
  /** The topic. */
  readonly topic: string | undefined;
  /** The partition. */
  readonly partition: number | undefined;
  constructor(e: Error, { topic, partition }: { topic?: string; partition?: number } = {}) {
    super(e, { type: 'OFFSET_OUT_OF_RANGE', code: 1, retriable: false });
    this.name = 'KafkaJSOffsetOutOfRange';
    this.topic = topic;
    this.partition = partition;
  }
}
/** Retries ran out. */
export class KafkaJSNumberOfRetriesExceeded extends KafkaJSNonRetriableError {
  /** How many times the call was tried. */
  readonly retryCount: number;
  /** The last wait before giving up, in ms. */
  readonly retryTime: number;
  constructor(e: Error, { retryCount = 0, retryTime = 0 }: { retryCount?: number; retryTime?: number } = {}) {
    super(e, { cause: e });
    this.name = 'KafkaJSNumberOfRetriesExceeded';
    this.retryCount = retryCount;
    this.retryTime = retryTime;
  }
}
/** The service could not be reached. */
export class KafkaJSConnectionError extends KafkaJSError {
  constructor(e: string | Error, options: { cause?: unknown } = {}) {
    super(e, options);
    this.name = 'KafkaJSConnectionError';
  }
}
/** A request timed out. */
export class KafkaJSRequestTimeoutError extends KafkaJSError {
  constructor(e: string | Error, options: { cause?: unknown } = {}) {
    super(e, options);
    this.name = 'KafkaJSRequestTimeoutError';
  }
}
/** The key was refused. */
export class KafkaJSSASLAuthenticationError extends KafkaJSNonRetriableError {
  constructor(e: string | Error, options: { cause?: unknown } = {}) {
    super(e, options);
    this.name = 'KafkaJSSASLAuthenticationError';
  }
}
/** Something kafkajs does that Runnel does not (transactions). */
export class KafkaJSNotImplemented extends KafkaJSNonRetriableError {
  constructor(e: string) {
    super(e);
    this.name = 'KafkaJSNotImplemented';
  }
}
/** Several errors at once. */
export class KafkaJSAggregateError extends Error {
  /** The errors. */
  readonly errors: Error[];
  constructor(message: string, errors: Error[]) {
    super(message);
    this.name = 'KafkaJSAggregateError';
    this.errors = errors;
  }
}

const PROTOCOL: Record<string, { type: string; code: number }> = {
  topic_not_found: { type: 'UNKNOWN_TOPIC_OR_PARTITION', code: 3 },
  partition_not_found: { type: 'UNKNOWN_TOPIC_OR_PARTITION', code: 3 },
  topic_exists: { type: 'TOPIC_ALREADY_EXISTS', code: 36 },
  record_too_large: { type: 'MESSAGE_TOO_LARGE', code: 10 },
  request_too_large: { type: 'MESSAGE_TOO_LARGE', code: 10 },
  forbidden: { type: 'TOPIC_AUTHORIZATION_FAILED', code: 29 },
  quota_exceeded: { type: 'POLICY_VIOLATION', code: 44 },
  invalid_request: { type: 'INVALID_REQUEST', code: 42 },
  group_not_found: { type: 'GROUP_ID_NOT_FOUND', code: 69 },
  group_not_empty: { type: 'NON_EMPTY_GROUP', code: 68 },
  fenced: { type: 'UNKNOWN_MEMBER_ID', code: 25 },
  rebalance_in_progress: { type: 'REBALANCE_IN_PROGRESS', code: 27 },
  duplicate_sequence: { type: 'DUPLICATE_SEQUENCE_NUMBER', code: 46 },
  out_of_order_sequence: { type: 'OUT_OF_ORDER_SEQUENCE_NUMBER', code: 45 },
  throttled: { type: 'THROTTLING_QUOTA_EXCEEDED', code: 89 },
};

/** A {@link RunnelError} (or anything thrown) as the kafkajs error a kafkajs program expects. */
export const toKafkaJSError = (error: unknown, context: { topic?: string; partition?: number } = {}): Error => {
  if (error instanceof KafkaJSError || error instanceof KafkaJSAggregateError) return error;
  if (!(error instanceof RunnelError))
    return error instanceof Error ? new KafkaJSError(error) : new KafkaJSError(String(error));
  let mapped: KafkaJSError;
  if (error.code === 'offset_out_of_range') mapped = new KafkaJSOffsetOutOfRange(error, context);
  else if (error.code === 'unauthorized' || error.code === 'token_expired')
    mapped = new KafkaJSSASLAuthenticationError(error, { cause: error });
  else if (error.code === 'network') mapped = new KafkaJSConnectionError(error, { cause: error });
  else if (error.code === 'timeout') mapped = new KafkaJSRequestTimeoutError(error, { cause: error });
  else {
    const p = PROTOCOL[error.code];
    mapped = p
      ? new KafkaJSProtocolError(error, { ...p, retriable: error.retriable })
      : new KafkaJSError(error, { retriable: error.retriable, cause: error });
  }
  // A retriable failure that still reached the caller means the SDK's retries ran out.
  if (error.retriable && error.code !== 'rebalance_in_progress') return new KafkaJSNumberOfRetriesExceeded(mapped);
  return mapped;
};

const wrap = async <T>(fn: () => Promise<T>, context?: { topic?: string; partition?: number }): Promise<T> => {
  try {
    return await fn();
  } catch (error) {
    throw toKafkaJSError(error, context);
  }
};

// ---------------------------------------------------------------------------------------
// Logging, as kafkajs.

/** kafkajs's log levels. */
export const logLevel = { NOTHING: 0, ERROR: 1, WARN: 2, INFO: 4, DEBUG: 5 } as const;
/** A log level. */
export type LogLevel = (typeof logLevel)[keyof typeof logLevel];

/** One log line handed to a `logCreator`'s log function. */
export interface LogEntry {
  namespace: string;
  level: LogLevel;
  label: string;
  log: { timestamp: string; message: string; [extra: string]: unknown };
}

/** kafkajs's `logCreator`: builds the function that writes log entries. */
export type LogCreator = (level: LogLevel) => (entry: LogEntry) => void;

/** kafkajs's logger. */
export interface Logger {
  info(message: string, extra?: object): void;
  error(message: string, extra?: object): void;
  warn(message: string, extra?: object): void;
  debug(message: string, extra?: object): void;
  namespace(namespace: string, logLevel?: LogLevel): Logger;
  setLogLevel(logLevel: LogLevel): void;
}

const LABELS: Record<number, string> = { 1: 'ERROR', 2: 'WARN', 4: 'INFO', 5: 'DEBUG' };

const defaultLogCreator: LogCreator =
  () =>
  ({ namespace, label, log }) => {
    const line = JSON.stringify({ level: label, logger: 'kafkajs', ...(namespace ? { namespace } : {}), ...log });
    if (label === 'ERROR') console.error(line);
    else if (label === 'WARN') console.warn(line);
    else console.info(line);
  };

const createLogger = (creator: LogCreator, initial: LogLevel, namespace = ''): Logger => {
  let level: LogLevel = initial;
  const write = creator(level);
  const at =
    (l: LogLevel) =>
    (message: string, extra: object = {}) => {
      if (l > level || level === logLevel.NOTHING) return;
      write({
        namespace,
        level: l,
        label: LABELS[l] ?? 'INFO',
        log: { timestamp: new Date().toISOString(), message, ...extra },
      });
    };
  return {
    error: at(logLevel.ERROR),
    warn: at(logLevel.WARN),
    info: at(logLevel.INFO),
    debug: at(logLevel.DEBUG),
    namespace: (ns, l) => createLogger(creator, l ?? level, ns),
    setLogLevel: (l) => {
      level = l;
    },
  };
};

/** kafkajs's compression codecs: accepted, with no effect (HTTP compresses where the deployment does). */
export const CompressionTypes = { None: 0, GZIP: 1, Snappy: 2, LZ4: 3, ZSTD: 4 } as const;

// ---------------------------------------------------------------------------------------
// The client.

/** SASL as kafkajs takes it: the password is the Runnel API key. */
export interface SASLOptions {
  mechanism: string;
  username?: string;
  password?: string;
}

/** kafkajs's `KafkaConfig`, with Runnel's meaning: the first broker is the service URL. */
export interface KafkaConfig {
  /** The service URL(s) (`http://127.0.0.1:8080`); a bare `host:port` becomes `http(s)://host:port`. */
  brokers: string[] | (() => string[] | Promise<string[]>);
  /** Identifies the application in logs. */
  clientId?: string;
  /** `sasl.password` is the API key (any mechanism). */
  sasl?: SASLOptions;
  /** The API key, instead of `sasl`. */
  apiKey?: string;
  /** `true` (or an object): bare broker addresses use https. */
  ssl?: boolean | object;
  /** Milliseconds per request. @default 30000 */
  requestTimeout?: number;
  /** Accepted (no connections to make). */
  connectionTimeout?: number;
  /** kafkajs's retry options: `initialRetryTime` and `maxRetryTime` shape the backoff. */
  retry?: { retries?: number; initialRetryTime?: number; maxRetryTime?: number };
  /** @default logLevel.INFO */
  logLevel?: LogLevel;
  /** Custom log output, as kafkajs. */
  logCreator?: LogCreator;
  /** The `fetch` to use. @default globalThis.fetch */
  fetch?: FetchLike;
}

/** kafkajs's `Kafka`: creates producers, consumers and admins. */
export class Kafka {
  private readonly config: KafkaConfig;
  private readonly rootLogger: Logger;
  private runnelPromise: Promise<Runnel> | undefined;

  constructor(config: KafkaConfig) {
    if (!config || (!Array.isArray(config.brokers) && typeof config.brokers !== 'function')) {
      throw new KafkaJSNonRetriableError('Failed to connect: expected brokers array and got nothing');
    }
    this.config = config;
    this.rootLogger = createLogger(config.logCreator ?? defaultLogCreator, config.logLevel ?? logLevel.INFO);
  }

  /** The client's logger. */
  logger(): Logger {
    return this.rootLogger;
  }

  /** @internal The Runnel client behind this facade. */
  runnel(): Promise<Runnel> {
    this.runnelPromise ??= (async () => {
      const brokers = typeof this.config.brokers === 'function' ? await this.config.brokers() : this.config.brokers;
      const first = brokers[0];
      if (!first) throw new KafkaJSNonRetriableError('Failed to connect: brokers is empty');
      const url = /^https?:\/\//.test(first) ? first : `${this.config.ssl ? 'https' : 'http'}://${first}`;
      const apiKey = this.config.apiKey ?? this.config.sasl?.password;
      return new Runnel({
        url,
        ...(apiKey ? { apiKey } : {}),
        ...(this.config.fetch ? { fetch: this.config.fetch } : {}),
        ...(this.config.requestTimeout ? { requestTimeoutMs: this.config.requestTimeout } : {}),
      });
    })();
    return this.runnelPromise;
  }

  /** @internal */
  backoff(): { initialMs?: number; maxMs?: number } {
    const r = this.config.retry ?? {};
    return {
      ...(r.initialRetryTime ? { initialMs: r.initialRetryTime } : {}),
      ...(r.maxRetryTime ? { maxMs: r.maxRetryTime } : {}),
    };
  }

  /** A producer. */
  producer(config: ProducerConfig = {}): Producer {
    return new Producer(this, config);
  }

  /** A consumer-group member. */
  consumer(config: ConsumerConfig): Consumer {
    return new Consumer(this, config);
  }

  /** The admin client. */
  admin(_config: object = {}): Admin {
    return new Admin(this);
  }
}

// ---------------------------------------------------------------------------------------
// Producer.

/** kafkajs's header map: values are strings or Buffers (or arrays of them). */
export type IHeaders = Record<string, string | Uint8Array | (string | Uint8Array)[] | undefined>;

/** A kafkajs message. */
export interface Message {
  key?: string | Uint8Array | null;
  value: string | Uint8Array | null;
  partition?: number;
  headers?: IHeaders;
  /** Ms since the epoch, as a string (kafkajs's convention) or a number. */
  timestamp?: string | number;
}

/** kafkajs's `ProducerRecord`. */
export interface KafkaProducerRecord {
  topic: string;
  messages: Message[];
  /** Accepted; every acknowledged record is durable. */
  acks?: number;
  /** Accepted; the producer's delivery timeout applies. */
  timeout?: number;
  /** Accepted; no effect. */
  compression?: number;
}

/** kafkajs's `RecordMetadata`: one entry per topic and partition of a send. */
export interface RecordMetadata {
  topicName: string;
  partition: number;
  errorCode: number;
  /** The first offset of this send in the partition. */
  baseOffset: string;
  /** Append time of that record. */
  logAppendTime: string;
  /** Not known per send: `'-1'`, as Kafka answers without the information. */
  logStartOffset: string;
  offset?: string;
  timestamp?: string;
}

/** kafkajs's partitioner factory. */
export type ICustomPartitioner = () => (args: {
  topic: string;
  partitionMetadata: { partitionId: number; leader: number }[];
  message: Message;
}) => number;

/** kafkajs's producer options. Batching options are Runnel's. */
export interface ProducerConfig {
  /** A custom partitioner; by default keyed messages land where kafkajs's DefaultPartitioner (murmur2) puts them. */
  createPartitioner?: ICustomPartitioner;
  /** Idempotence is always on. */
  idempotent?: boolean;
  /** Transactions are not supported: setting it throws. */
  transactionalId?: string;
  /** Accepted; topics must exist. */
  allowAutoTopicCreation?: boolean;
  /** Milliseconds before a batch is sent. @default 0 (each `send` goes at once, in one request per partition, as kafkajs) */
  lingerMs?: number;
  /** @default 1 MiB */
  batchMaxBytes?: number;
  [other: string]: unknown;
}

const headersToList = (headers: IHeaders | undefined): Header[] | undefined => {
  if (!headers) return undefined;
  const list: Header[] = [];
  for (const [key, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) list.push({ key, value: toData(one) });
  }
  return list;
};

/** kafkajs's events of a producer. */
export const producerEvents = {
  CONNECT: 'producer.connect',
  DISCONNECT: 'producer.disconnect',
  REQUEST: 'producer.network.request',
  REQUEST_TIMEOUT: 'producer.network.request_timeout',
  REQUEST_QUEUE_SIZE: 'producer.network.request_queue_size',
} as const;

/** kafkajs's instrumentation event. */
export interface InstrumentationEvent<T = unknown> {
  id: number;
  type: string;
  timestamp: number;
  payload: T;
}

let eventId = 0;

class Emitter {
  private readonly listeners = new Map<string, Set<(e: InstrumentationEvent) => void>>();
  on(type: string, listener: (e: InstrumentationEvent) => void): () => void {
    let set = this.listeners.get(type);
    if (!set) {
      set = new Set();
      this.listeners.set(type, set);
    }
    set.add(listener);
    return () => set.delete(listener);
  }
  emit(type: string, payload: unknown): void {
    const event = { id: eventId++, type, timestamp: Date.now(), payload };
    for (const l of this.listeners.get(type) ?? []) {
      try {
        l(event);
      } catch {}
    }
  }
}

/** kafkajs's producer over Runnel's batching, idempotent producer. */
export class Producer {
  /** Event names for {@link Producer.on}. */
  readonly events = producerEvents;
  private readonly kafka: Kafka;
  private readonly config: ProducerConfig;
  private readonly emitter = new Emitter();
  private producer: RunnelProducer | undefined;
  private partitioner: ReturnType<ICustomPartitioner> | undefined;
  private readonly partitionCounts = new Map<string, Promise<number>>();

  constructor(kafka: Kafka, config: ProducerConfig) {
    if (config.transactionalId) throw new KafkaJSNotImplemented('Runnel has no transactions (transactionalId).');
    this.kafka = kafka;
    this.config = config;
    this.partitioner = config.createPartitioner?.();
  }

  /** Prepares the producer (checks the key). */
  async connect(): Promise<void> {
    const runnel = await this.kafka.runnel();
    await wrap(() => runnel.topics.list());
    this.producer ??= runnel.producer({
      lingerMs: this.config.lingerMs ?? 0,
      ...(this.config.batchMaxBytes ? { batchMaxBytes: this.config.batchMaxBytes } : {}),
      retryBackoff: this.kafka.backoff(),
    });
    this.emitter.emit(producerEvents.CONNECT, {});
  }

  /** Sends messages to one topic; resolves when all are durable. */
  async send(record: KafkaProducerRecord): Promise<RecordMetadata[]> {
    return this.sendBatch({ topicMessages: [record] });
  }

  /** Sends messages to several topics. */
  async sendBatch(batch: { topicMessages?: { topic: string; messages: Message[] }[]; [other: string]: unknown }) {
    if (!this.producer) await this.connect();
    const producer = this.producer as RunnelProducer;
    const records: ProducerRecord[] = [];
    for (const { topic, messages } of batch.topicMessages ?? []) {
      if (!topic) throw new KafkaJSNonRetriableError('Invalid topic');
      if (!Array.isArray(messages))
        throw new KafkaJSNonRetriableError(`Invalid messages array [${messages}] for topic "${topic}"`);
      for (const m of messages) {
        if (m === null || typeof m !== 'object')
          throw new KafkaJSNonRetriableError(`Invalid message for topic "${topic}"`);
        const record: ProducerRecord = { topic, key: toData(m.key), value: toData(m.value) };
        const headers = headersToList(m.headers);
        if (headers) record.headers = headers;
        if (m.timestamp !== undefined) record.timestamp = Number(m.timestamp);
        if (m.partition !== undefined && m.partition !== null) record.partition = m.partition;
        else if (this.partitioner) record.partition = await this.customPartition(topic, m);
        records.push(record);
      }
    }
    const metadata = await wrap(() => producer.sendBatch(records));
    const byPartition = new Map<string, RecordMetadata>();
    for (const a of metadata) {
      const k = `${a.topic}\u0000${a.partition}`;
      const existing = byPartition.get(k);
      if (!existing || Number(existing.baseOffset) > a.offset) {
        byPartition.set(k, {
          topicName: a.topic,
          partition: a.partition,
          errorCode: 0,
          baseOffset: String(a.offset),
          logAppendTime: String(a.timestamp),
          logStartOffset: '-1',
        });
      }
    }
    return [...byPartition.values()];
  }

  private async customPartition(topic: string, message: Message): Promise<number> {
    let count = this.partitionCounts.get(topic);
    if (!count) {
      count = this.kafka.runnel().then((r) => wrap(() => r.topics.describe(topic)).then((t) => t.partitions));
      this.partitionCounts.set(topic, count);
    }
    const n = await count;
    const partitionMetadata = Array.from({ length: n }, (_, partitionId) => ({ partitionId, leader: 0 }));
    return (this.partitioner as ReturnType<ICustomPartitioner>)({ topic, partitionMetadata, message });
  }

  /** Flushes and stops. */
  async disconnect(): Promise<void> {
    await this.producer?.close();
    this.producer = undefined;
    this.emitter.emit(producerEvents.DISCONNECT, {});
  }

  /** Always false: Runnel has no transactions. */
  isIdempotent(): boolean {
    return true;
  }

  /** Transactions are not supported. */
  async transaction(): Promise<never> {
    throw new KafkaJSNotImplemented('Runnel has no transactions; produce is idempotent per partition.');
  }

  /** Listens to a producer event. */
  on(event: string, listener: (e: InstrumentationEvent) => void): () => void {
    return this.emitter.on(event, listener);
  }

  /** The client's logger. */
  logger(): Logger {
    return this.kafka.logger();
  }
}

// ---------------------------------------------------------------------------------------
// Consumer.

/** kafkajs's events of a consumer. */
export const consumerEvents = {
  HEARTBEAT: 'consumer.heartbeat',
  COMMIT_OFFSETS: 'consumer.commit_offsets',
  GROUP_JOIN: 'consumer.group_join',
  FETCH_START: 'consumer.fetch_start',
  FETCH: 'consumer.fetch',
  START_BATCH_PROCESS: 'consumer.start_batch_process',
  END_BATCH_PROCESS: 'consumer.end_batch_process',
  CONNECT: 'consumer.connect',
  DISCONNECT: 'consumer.disconnect',
  STOP: 'consumer.stop',
  CRASH: 'consumer.crash',
  REBALANCING: 'consumer.rebalancing',
  RECEIVED_UNSUBSCRIBED_TOPICS: 'consumer.received_unsubscribed_topics',
  REQUEST: 'consumer.network.request',
  REQUEST_TIMEOUT: 'consumer.network.request_timeout',
  REQUEST_QUEUE_SIZE: 'consumer.network.request_queue_size',
} as const;

/** kafkajs's consumer options. */
export interface ConsumerConfig {
  groupId: string;
  /** @default 30000 (Runnel's minimum is 10000) */
  sessionTimeout?: number;
  /** @default 3000 */
  heartbeatInterval?: number;
  /** Accepted (rebalances are computed by the service). */
  rebalanceTimeout?: number;
  /** Records per partition fetch. @default 500 */
  maxRecords?: number;
  /** Bytes per partition fetch. @default 1048576 */
  maxBytesPerPartition?: number;
  /** Long-poll wait. @default 5000 */
  maxWaitTimeInMs?: number;
  [other: string]: unknown;
}

/** A message as kafkajs hands it out. */
export interface KafkaMessage {
  key: KafkaBuffer | null;
  value: KafkaBuffer | null;
  timestamp: string;
  attributes: number;
  offset: string;
  size: number;
  headers: Record<string, KafkaBuffer | KafkaBuffer[] | undefined>;
}

/** kafkajs's `Batch`. */
export interface Batch {
  topic: string;
  partition: number;
  highWatermark: string;
  messages: KafkaMessage[];
  isEmpty(): boolean;
  firstOffset(): string | null;
  lastOffset(): string;
  offsetLag(): string;
  offsetLagLow(): string;
}

/** kafkajs's `eachMessage` payload. */
export interface EachMessagePayload {
  topic: string;
  partition: number;
  message: KafkaMessage;
  heartbeat(): Promise<void>;
  pause(): () => void;
}

/** kafkajs's `eachBatch` payload. */
export interface EachBatchPayload {
  batch: Batch;
  resolveOffset(offset: string): void;
  heartbeat(): Promise<void>;
  pause(): () => void;
  commitOffsetsIfNecessary(offsets?: unknown): Promise<void>;
  uncommittedOffsets(): { topics: { topic: string; partitions: { partition: number; offset: string }[] }[] };
  isRunning(): boolean;
  isStale(): boolean;
}

/** kafkajs's `run` options. */
export interface ConsumerRunConfig {
  eachMessage?: (payload: EachMessagePayload) => Promise<void>;
  eachBatch?: (payload: EachBatchPayload) => Promise<void>;
  /** @default true */
  autoCommit?: boolean;
  /** Commit on this interval instead of after each batch. */
  autoCommitInterval?: number | null;
  /** Accepted: offsets are committed after every batch anyway. */
  autoCommitThreshold?: number | null;
  /** @default true */
  eachBatchAutoResolve?: boolean;
  /** @default 1 */
  partitionsConsumedConcurrently?: number;
}

const toKafkaMessage = (r: ConsumedRecord): KafkaMessage => {
  const headers: Record<string, KafkaBuffer | KafkaBuffer[] | undefined> = {};
  for (const h of r.headers) {
    const v = fromBase64(h.value) ?? undefined;
    const existing = headers[h.key];
    if (existing === undefined) headers[h.key] = v;
    else if (v !== undefined) headers[h.key] = Array.isArray(existing) ? [...existing, v] : [existing, v];
  }
  const key = fromBase64(r.key);
  const value = fromBase64(r.value);
  return {
    key,
    value,
    timestamp: String(r.timestamp),
    attributes: 0,
    offset: String(r.offset),
    size: (key?.length ?? 0) + (value?.length ?? 0),
    headers,
  };
};

/** kafkajs's consumer over a Runnel consumer-group member. */
export class Consumer {
  /** Event names for {@link Consumer.on}. */
  readonly events = consumerEvents;
  private readonly kafka: Kafka;
  private readonly config: ConsumerConfig;
  private readonly emitter = new Emitter();
  private readonly topics = new Set<string>();
  private readonly patterns: RegExp[] = [];
  private fromBeginning = false;
  private consumer: RunnelConsumer | undefined;
  private running: Promise<void> | undefined;
  private readonly pendingSeeks: { topic: string; partition: number; offset: number }[] = [];

  constructor(kafka: Kafka, config: ConsumerConfig) {
    if (!config?.groupId) throw new KafkaJSNonRetriableError('Consumer groupId must be a non-empty string.');
    this.kafka = kafka;
    this.config = config;
  }

  /** Checks the key. */
  async connect(): Promise<void> {
    const runnel = await this.kafka.runnel();
    await wrap(() => runnel.topics.list());
    this.emitter.emit(consumerEvents.CONNECT, {});
  }

  /** Subscribes to a topic, several, or those matching a RegExp (resolved now). */
  async subscribe(subscription: { topic?: string | RegExp; topics?: (string | RegExp)[]; fromBeginning?: boolean }) {
    if (this.consumer) throw new KafkaJSNonRetriableError('Cannot subscribe to topic while consumer is running');
    const list = subscription.topics ?? (subscription.topic !== undefined ? [subscription.topic] : []);
    if (list.length === 0) throw new KafkaJSNonRetriableError('Missing required argument "topics"');
    for (const t of list) {
      if (typeof t === 'string') this.topics.add(t);
      else this.patterns.push(t);
    }
    if (this.patterns.length > 0) {
      const runnel = await this.kafka.runnel();
      const all = await wrap(() => runnel.topics.list());
      for (const t of all) if (this.patterns.some((p) => p.test(t.name))) this.topics.add(t.name);
    }
    this.fromBeginning = subscription.fromBeginning ?? false;
  }

  /** Starts consuming in the background (resolves once the member has joined), as kafkajs does. */
  async run(config: ConsumerRunConfig = {}): Promise<void> {
    if (this.consumer) throw new KafkaJSNonRetriableError('Consumer is already running');
    if (!config.eachMessage && !config.eachBatch)
      throw new KafkaJSNonRetriableError('Consumer needs eachMessage or eachBatch');
    if (this.topics.size === 0) throw new KafkaJSNonRetriableError('Consumer is not subscribed to any topic');
    const runnel = await this.kafka.runnel();
    const autoCommit =
      config.autoCommit === false
        ? false
        : config.autoCommitInterval
          ? { intervalMs: config.autoCommitInterval }
          : true;
    const c = runnel.consumer({
      groupId: this.config.groupId,
      topics: [...this.topics],
      sessionTimeoutMs: this.config.sessionTimeout ?? 30_000,
      heartbeatIntervalMs: this.config.heartbeatInterval ?? 3_000,
      autoOffsetReset: this.fromBeginning ? 'earliest' : 'latest',
      autoCommit,
      encoding: 'base64',
      retryBackoff: this.kafka.backoff(),
      ...(this.config.maxRecords ? { maxRecords: this.config.maxRecords } : {}),
      ...(this.config.maxBytesPerPartition ? { maxBytes: this.config.maxBytesPerPartition } : {}),
      waitMs: Math.min(this.config.maxWaitTimeInMs ?? 5_000, 20_000),
      onAssigned: () => {
        for (const s of this.pendingSeeks.splice(0)) this.seek({ ...s, offset: String(s.offset) });
      },
    });
    this.consumer = c;
    const payloadBase = (topic: string, partition: number) => ({
      heartbeat: async () => {},
      pause: () => {
        c.pause([{ topic, partitions: [partition] }]);
        return () => c.resume([{ topic, partitions: [partition] }]);
      },
    });
    c.on('group_join', (e) =>
      this.emitter.emit(consumerEvents.GROUP_JOIN, {
        groupId: this.config.groupId,
        memberId: e.memberId,
        leaderId: e.memberId,
        isLeader: false,
        groupProtocol: 'runnel',
        memberAssignment: Object.fromEntries(e.assignments.map((a) => [a.topic, a.partitions])),
        duration: 0,
      }),
    );
    c.on('heartbeat', (e) =>
      this.emitter.emit(consumerEvents.HEARTBEAT, {
        groupId: this.config.groupId,
        memberId: c.memberId,
        groupGenerationId: e.generation,
      }),
    );
    c.on('rebalance', () =>
      this.emitter.emit(consumerEvents.REBALANCING, { groupId: this.config.groupId, memberId: c.memberId }),
    );
    c.on('commit', (e) => {
      const topics = new Map<string, { partition: string; offset: string }[]>();
      for (const o of e.offsets) {
        topics.set(o.topic, [
          ...(topics.get(o.topic) ?? []),
          { partition: String(o.partition), offset: String(o.offset) },
        ]);
      }
      this.emitter.emit(consumerEvents.COMMIT_OFFSETS, {
        groupId: this.config.groupId,
        memberId: c.memberId,
        groupGenerationId: e.generation,
        topics: [...topics.entries()].map(([topic, partitions]) => ({ topic, partitions })),
      });
    });
    c.on('crash', (e) =>
      this.emitter.emit(consumerEvents.CRASH, {
        error: toKafkaJSError(e.error),
        groupId: this.config.groupId,
        restart: false,
      }),
    );
    const toBatch = (b: ConsumerBatch): Batch => {
      const messages = b.records.map(toKafkaMessage);
      const last = b.records[b.records.length - 1]?.offset ?? b.highWatermark - 1;
      return {
        topic: b.topic,
        partition: b.partition,
        highWatermark: String(b.highWatermark),
        messages,
        isEmpty: () => messages.length === 0,
        firstOffset: () => (messages[0] ? messages[0].offset : null),
        lastOffset: () => String(last),
        offsetLag: () => String(Math.max(0, b.highWatermark - 1 - last)),
        offsetLagLow: () => String(Math.max(0, b.highWatermark - 1 - (b.records[0]?.offset ?? last))),
      };
    };
    const eachMessage = config.eachMessage;
    const eachBatch = config.eachBatch;
    this.running = c.run({
      partitionsConsumedConcurrently: config.partitionsConsumedConcurrently ?? 1,
      eachBatchAutoResolve: config.eachBatchAutoResolve ?? true,
      ...(eachMessage
        ? {
            eachMessage: async ({ topic, partition, message }) => {
              this.emitter.emit(consumerEvents.START_BATCH_PROCESS, { topic, partition });
              await eachMessage({
                topic,
                partition,
                message: toKafkaMessage(message),
                ...payloadBase(topic, partition),
              });
            },
          }
        : {
            eachBatch: async ({ batch, resolveOffset }) => {
              let stale = false;
              await (eachBatch as NonNullable<typeof eachBatch>)({
                batch: toBatch(batch),
                resolveOffset: (offset) => resolveOffset(Number(offset)),
                ...payloadBase(batch.topic, batch.partition),
                commitOffsetsIfNecessary: async () => {
                  await c.commit();
                },
                uncommittedOffsets: () => ({ topics: [] }),
                isRunning: () => !stale && this.consumer === c,
                isStale: () => {
                  stale = !c
                    .assignment()
                    .some((a) => a.topic === batch.topic && a.partitions.includes(batch.partition));
                  return stale;
                },
              });
            },
          }),
    });
    this.running.catch(() => {});
    await wrap(() => c.connect());
  }

  /** Commits the given offsets (the next offset to read, as strings). */
  async commitOffsets(offsets: { topic: string; partition: number; offset: string }[]): Promise<void> {
    const c = this.consumer;
    if (!c) throw new KafkaJSNonRetriableError('Consumer is not running');
    await wrap(() =>
      c.commit(offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: Number(o.offset) }))),
    );
  }

  /** Continues a partition at `offset`. */
  seek({ topic, partition, offset }: { topic: string; partition: number; offset: string }): void {
    const n = Number(offset);
    const c = this.consumer;
    if (!c?.assignment().some((a) => a.topic === topic && a.partitions.includes(partition))) {
      this.pendingSeeks.push({ topic, partition, offset: n });
      return;
    }
    c.seek({ topic, partition, offset: n });
  }

  /** Stops fetching from topics or partitions. */
  pause(topics: { topic: string; partitions?: number[] }[]): void {
    this.consumer?.pause(topics);
  }

  /** Resumes paused topics or partitions. */
  resume(topics: { topic: string; partitions?: number[] }[]): void {
    this.consumer?.resume(topics);
  }

  /** The paused partitions. */
  paused(): { topic: string; partitions: number[] }[] {
    return this.consumer?.paused() ?? [];
  }

  /** Stops consuming: commits what was processed and leaves the group. */
  async stop(): Promise<void> {
    const c = this.consumer;
    this.consumer = undefined;
    if (c) {
      await wrap(() => c.close());
      await this.running?.catch(() => {});
    }
    this.emitter.emit(consumerEvents.STOP, {});
  }

  /** Stops and disconnects. */
  async disconnect(): Promise<void> {
    await this.stop();
    this.emitter.emit(consumerEvents.DISCONNECT, {});
  }

  /** Listens to a consumer event (`consumer.events.*`). */
  on(event: string, listener: (e: InstrumentationEvent) => void): () => void {
    return this.emitter.on(event, listener);
  }

  /** The client's logger. */
  logger(): Logger {
    return this.kafka.logger();
  }
}

// ---------------------------------------------------------------------------------------
// Admin.

/** kafkajs's admin client over Runnel's admin calls. */
export class Admin {
  private readonly kafka: Kafka;
  constructor(kafka: Kafka) {
    this.kafka = kafka;
  }

  private async r(): Promise<Runnel> {
    return this.kafka.runnel();
  }

  /** Checks the key. */
  async connect(): Promise<void> {
    const runnel = await this.r();
    await wrap(() => runnel.topics.list());
  }

  /** Nothing to close. */
  async disconnect(): Promise<void> {}

  /** Creates topics; `retention.ms` in `configEntries` sets retention. Resolves false when one already existed. */
  async createTopics(options: {
    topics: { topic: string; numPartitions?: number; configEntries?: { name: string; value: string }[] }[];
    [other: string]: unknown;
  }): Promise<boolean> {
    const runnel = await this.r();
    let created = true;
    for (const t of options.topics) {
      const retention = t.configEntries?.find((e) => e.name === 'retention.ms')?.value;
      const numPartitions = t.numPartitions === undefined || t.numPartitions === -1 ? 1 : t.numPartitions;
      try {
        await runnel.topics.create({
          name: t.topic,
          partitions: numPartitions,
          ...(retention !== undefined ? { retentionMs: Number(retention) } : {}),
        });
      } catch (error) {
        if (error instanceof RunnelError && error.code === 'topic_exists') created = false;
        else throw toKafkaJSError(error, { topic: t.topic });
      }
    }
    return created;
  }

  /** Deletes topics. */
  async deleteTopics({ topics }: { topics: string[]; timeout?: number }): Promise<void> {
    const runnel = await this.r();
    for (const t of topics) await wrap(() => runnel.topics.delete(t), { topic: t });
  }

  /** Topic names. */
  async listTopics(): Promise<string[]> {
    const runnel = await this.r();
    return (await wrap(() => runnel.topics.list())).map((t) => t.name);
  }

  /** Partitions of the given topics (all when none are given). */
  async fetchTopicMetadata(options: { topics?: string[] } = {}) {
    const runnel = await this.r();
    const names = options.topics?.length ? options.topics : (await wrap(() => runnel.topics.list())).map((t) => t.name);
    const topics = [];
    for (const name of names) {
      const t = await wrap(() => runnel.topics.describe(name), { topic: name });
      topics.push({
        name,
        partitions: Array.from({ length: t.partitions }, (_, partitionId) => ({
          partitionErrorCode: 0,
          partitionId,
          leader: 0,
          replicas: [0],
          isr: [0],
          offlineReplicas: [] as number[],
        })),
      });
    }
    return { topics };
  }

  /** High watermark and log start offset per partition. */
  async fetchTopicOffsets(topic: string) {
    const runnel = await this.r();
    const t = await wrap(() => runnel.topics.describe(topic), { topic });
    return t.partitionStates.map((p) => ({
      partition: p.partition,
      offset: String(p.highWatermark),
      high: String(p.highWatermark),
      low: String(p.logStartOffset),
    }));
  }

  /** Per partition, the first offset at or after `timestamp` (or the high watermark). */
  async fetchTopicOffsetsByTimestamp(topic: string, timestamp?: number) {
    const runnel = await this.r();
    const t = await wrap(() => runnel.topics.describe(topic), { topic });
    return Promise.all(
      t.partitionStates.map(async (p) => ({
        partition: p.partition,
        offset: String(
          timestamp === undefined
            ? p.highWatermark
            : await wrap(() => runnel.offsetForTimestamp(topic, p.partition, timestamp), { topic }),
        ),
      })),
    );
  }

  /** Grows topics to `count` partitions. */
  async createPartitions({
    topicPartitions,
  }: {
    topicPartitions: { topic: string; count: number }[];
  }): Promise<boolean> {
    const runnel = await this.r();
    for (const t of topicPartitions) await wrap(() => runnel.topics.update(t.topic, { partitions: t.count }), t);
    return true;
  }

  /** The tenant's groups. */
  async listGroups() {
    const runnel = await this.r();
    const groups = await wrap(() => runnel.groups.list());
    return { groups: groups.map((g) => ({ groupId: g.group, protocolType: 'consumer' })) };
  }

  /** Members and state of groups. */
  async describeGroups(groupIds: string[]) {
    const runnel = await this.r();
    const groups = [];
    for (const groupId of groupIds) {
      try {
        const g = await runnel.groups.describe(groupId);
        groups.push({
          groupId,
          errorCode: 0,
          protocol: 'runnel',
          protocolType: 'consumer',
          state: g.members.length > 0 ? 'Stable' : 'Empty',
          members: g.members.map((m) => ({
            memberId: m.memberId,
            clientId: m.memberId,
            clientHost: '',
            memberMetadata: new Uint8Array(),
            memberAssignment: new Uint8Array(),
            assignments: m.assignments,
          })),
        });
      } catch (error) {
        if (!(error instanceof RunnelError && error.code === 'group_not_found')) throw toKafkaJSError(error);
        groups.push({ groupId, errorCode: 0, protocol: '', protocolType: '', state: 'Dead', members: [] });
      }
    }
    return { groups };
  }

  /** Committed offsets of a group (`'-1'` where none). */
  async fetchOffsets({ groupId, topics }: { groupId: string; topics?: string[]; resolveOffsets?: boolean }) {
    const runnel = await this.r();
    const names = topics?.length ? topics : [...new Set((await this.committed(runnel, groupId)).map((o) => o.topic))];
    const out = [];
    for (const topic of names) {
      const t = await wrap(() => runnel.topics.describe(topic), { topic });
      const committed = await this.committed(runnel, groupId, topic);
      out.push({
        topic,
        partitions: Array.from({ length: t.partitions }, (_, partition) => {
          const c = committed.find((o) => o.partition === partition);
          return { partition, offset: c ? String(c.offset) : '-1', metadata: c?.metadata ?? null };
        }),
      });
    }
    return out;
  }

  private async committed(runnel: Runnel, groupId: string, topic?: string) {
    try {
      return await runnel.groups.offsets(groupId, topic);
    } catch (error) {
      if (error instanceof RunnelError && error.code === 'group_not_found') return [];
      throw toKafkaJSError(error);
    }
  }

  /** Moves a group (without live members) to the earliest or latest offsets of a topic. */
  async resetOffsets({ groupId, topic, earliest = false }: { groupId: string; topic: string; earliest?: boolean }) {
    const runnel = await this.r();
    const t = await wrap(() => runnel.topics.describe(topic), { topic });
    await wrap(() =>
      runnel.groups.commit(
        groupId,
        t.partitionStates.map((p) => ({
          topic,
          partition: p.partition,
          offset: earliest ? p.logStartOffset : p.highWatermark,
        })),
      ),
    );
  }

  /** Sets a group's (without live members) offsets. */
  async setOffsets({
    groupId,
    topic,
    partitions,
  }: {
    groupId: string;
    topic: string;
    partitions: { partition: number; offset: string }[];
  }) {
    const runnel = await this.r();
    await wrap(() =>
      runnel.groups.commit(
        groupId,
        partitions.map((p) => ({ topic, partition: p.partition, offset: Number(p.offset) })),
      ),
    );
  }

  /** Deletes groups (refused while they have members). */
  async deleteGroups(groupIds: string[]) {
    const runnel = await this.r();
    const out = [];
    for (const groupId of groupIds) {
      await wrap(() => runnel.groups.delete(groupId));
      out.push({ groupId, errorCode: 0 });
    }
    return out;
  }

  /** The client's logger. */
  logger(): Logger {
    return this.kafka.logger();
  }
}
