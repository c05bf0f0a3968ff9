/** The shapes of the API's requests and responses, as the SDK hands them to you. */

/** A key, value or header value to produce: text (sent as UTF-8), bytes, or null. */
export type Data = string | Uint8Array | null;

/** A record header. Headers keep their order and may repeat. */
export interface Header<V = Data> {
  /** Header name. */
  key: string;
  /** Header value. */
  value: V;
}

/** A record to produce. */
export interface ProducerRecord {
  /** The topic. */
  topic: string;
  /** Key: records with the same key land on the same partition (murmur2, as Kafka). @default null */
  key?: Data;
  /** Value. @default null */
  value?: Data;
  /** Headers. */
  headers?: Header[];
  /** An explicit partition; overrides the key. */
  partition?: number;
  /** Producer timestamp in ms since the epoch. @default the append time */
  timestamp?: number;
}

/** Where a produced record was appended. */
export interface RecordMetadata {
  /** The topic. */
  topic: string;
  /** The partition it was appended to. */
  partition: number;
  /** Its offset in that partition. */
  offset: number;
  /** Its timestamp (the producer's, or the append time). */
  timestamp: number;
}

/** How fetched keys, values and header values are represented: UTF-8 text, or base64 text of the raw bytes. */
export type Encoding = 'utf8' | 'base64';

/** A record as read from a partition. */
export interface ConsumedRecord {
  /** The topic. */
  topic: string;
  /** The partition. */
  partition: number;
  /** The offset. */
  offset: number;
  /** Timestamp in ms since the epoch. */
  timestamp: number;
  /** Key (text, or base64 with `encoding: 'base64'`). */
  key: string | null;
  /** Value (text, or base64 with `encoding: 'base64'`). */
  value: string | null;
  /** Headers. */
  headers: Header<string | null>[];
}

/** A topic. */
export interface Topic {
  /** Name. */
  name: string;
  /** Number of partitions. */
  partitions: number;
  /** Milliseconds a record is kept after it was appended; -1 keeps records forever. */
  retentionMs: number;
  /** Creation time, ms since the epoch. */
  createdAt: number;
}

/** One partition's bounds. */
export interface PartitionState {
  /** The partition. */
  partition: number;
  /** First offset still readable. */
  logStartOffset: number;
  /** Offset the next record will get. */
  highWatermark: number;
  /** Retained bytes (when the server reports them). */
  retainedBytes?: number;
  /** Stored batches (when the server reports them). */
  segments?: number;
  /** False when `retainedBytes` and `segments` count only the first 100 stored batches of a long partition. */
  statsComplete?: boolean;
}

/** A topic with its partitions' bounds. */
export interface TopicDescription extends Topic {
  /** Bounds per partition. */
  partitionStates: PartitionState[];
}

/** One fetch from a partition. */
export interface FetchResult {
  /** Records in offset order. */
  records: ConsumedRecord[];
  /** Where the next fetch continues. */
  nextOffset: number;
  /** The partition's high watermark. */
  highWatermark: number;
  /** The partition's log start offset. */
  logStartOffset: number;
}

/** A group's member assignment: topics and their partitions. */
export interface Assignment {
  /** The topic. */
  topic: string;
  /** Its partitions. */
  partitions: number[];
}

/** A committed offset. */
export interface CommittedOffset {
  /** The topic. */
  topic: string;
  /** The partition. */
  partition: number;
  /** The next offset to read (Kafka's convention). */
  offset: number;
  /** The client's metadata string. */
  metadata?: string | null;
}

/** A consumer group as described by the service. */
export interface GroupDescription {
  /** The group. */
  group: string;
  /** The current generation. */
  generation: number;
  /** Live members. */
  members: { memberId: string; topics: string[]; assignments: Assignment[]; lastHeartbeat: number | null }[];
  /** Committed offset, high watermark and lag per partition. */
  partitions: {
    topic: string;
    partition: number;
    committedOffset: number | null;
    highWatermark: number;
    lag: number | null;
  }[];
}

/** A group in a listing. */
export interface GroupListing {
  /** The group. */
  group: string;
  /** The current generation. */
  generation: number;
  /** Number of live members. */
  members: number;
}

/** A permission of an API key or token. */
export interface Permission {
  /** `topic:NAME`, `group:NAME` (a trailing `*` matches a prefix), or `*`. */
  resource: string;
  /** What the key may do there. */
  actions: ('produce' | 'consume' | 'manage')[];
}

/** A connector (a managed pipeline run by the service). */
export interface Connector {
  /** Name. */
  name: string;
  /** `datagen`, `http-sink`, `s3-sink`, … */
  kind: string;
  /** Its configuration (secret values redacted). */
  config: Record<string, unknown>;
  /** `running`, `paused`, `failed` or `completed`. */
  state: string;
  /** Creation time. */
  createdAt: number;
  /** Progress and the last error. */
  status?: { records: number; lastError?: string; lastErrorAt?: number };
}
