/** Defaults in one place. Per-tenant overrides come with quotas. */
export const KiB = 1024;
export const MiB = 1024 * KiB;
export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export interface Limits {
  /** Largest record (key + value + headers, decoded). @default 1 MiB */
  maxRecordBytes: number;
  /** Largest request body. @default 6 MiB (Lambda's synchronous payload limit) */
  maxRequestBytes: number;
  /** Most records in one produce request. @default 10,000 */
  maxRecordsPerProduce: number;
  /** Most partitions in a topic. @default 1,000 */
  maxPartitionsPerTopic: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxRecordBytes: MiB,
  maxRequestBytes: 6 * MiB,
  maxRecordsPerProduce: 10_000,
  maxPartitionsPerTopic: 1000,
};

/** @default 7 days */
export const DEFAULT_RETENTION_MS = 7 * DAY;

/**
 * A produce request whose encoded batches total at most this many bytes is stored in
 * the DynamoDB index items and costs no S3 PUT. From the cost model (docs/performance.md, "The inline threshold"):
 * a PUT costs as much as eight 1 KB writes, so below ~8 KB inline is cheaper.
 */
export const INLINE_BATCH_MAX_BYTES = 8 * KiB;

/**
 * A segment PUT still unanswered after this long gets an identical second PUT beside it
 * (shared/services/hedge.ts): about the modelled 92nd percentile of an S3 PUT, so about 8%
 * of PUTs are sent twice and the PUT's p99 falls from ~200 ms to ~150 ms (docs/performance.md).
 */
export const SEGMENT_PUT_HEDGE_AFTER_MS = 100;

export const FETCH_DEFAULTS = {
  maxRecords: 500,
  maxBytes: MiB,
  waitMs: 0,
} as const;

export const FETCH_LIMITS = {
  maxRecords: 10_000,
  /** A base64 response of this many record bytes stays under Lambda's 6 MB response limit. */
  maxBytes: 4 * MiB,
  waitMs: 20_000,
} as const;

/**
 * Offset reservations one append may use before a produce answers 503 (retriable). A
 * reservation is used up only when readers fenced it (its writer was slower than the gap
 * bound) or its writer gave it up (past the writer bound), so this is a bound for a hang.
 */
export const MAX_APPEND_ATTEMPTS = 100;

/**
 * Gap bound G: a hole in a partition (offsets reserved on its counter that no entry or
 * marker covers) whose next entry is older than this is marked by the first reader that
 * reaches it. Readers stall at a hole for at most about this long (docs/offset-protocol.md).
 */
export const GAP_BOUND_MS = 10_000;

/**
 * Writer bound W: a writer sends its entry's put only while its reservation is younger
 * than this; past it, it marks the reservation as a gap itself and reserves again. Half
 * of G, so a live writer's put is normally long settled when readers start marking.
 */
export const RESERVATION_BOUND_MS = GAP_BOUND_MS / 2;

/** How long an API key lookup is cached in a warm function. A revoked key fails after at most this. */
export const API_KEY_CACHE_MS = 5 * SECOND;

/** How long an `Idempotency-Key` and a producer's state are kept after their last write. */
export const IDEMPOTENCY_RETENTION_MS = DAY;

/** A producer's replayable sequences: the last this many are answered with their first result. */
export const PRODUCER_SEQUENCE_WINDOW = 5;

/**
 * Exactly-once produce timing (docs/exactly-once.md). An attempt holds its claim for
 * `leaseMs`; it starts no append later than `leaseMs - settleMs` after claiming, and
 * `settleMs` bounds how long a call already sent can still take effect (the SDK's
 * attempts × request timeout plus backoff, plus clock skew between functions).
 */
export interface ExactlyOnceTiming {
  /** @default 60 s (above the API function's 30 s timeout) */
  leaseMs: number;
  /** @default 15 s */
  settleMs: number;
}

export const DEFAULT_EXACTLY_ONCE_TIMING: ExactlyOnceTiming = { leaseMs: 60 * SECOND, settleMs: 15 * SECOND };
/** How often a warm function records a key's last use: at most one write per key per this interval. */
export const API_KEY_LAST_USE_INTERVAL_MS = 5 * MINUTE;

/** Most permission entries on one key; a longer list is refused. */
export const MAX_KEY_PERMISSIONS = 100;

/** Segment bytes a warm function keeps in memory (immutable, so never stale). @default 64 MiB */
export const SEGMENT_CACHE_BYTES = 64 * MiB;

/** Consumer groups (docs/api.md, "Consumer groups"). */
export const GROUP_DEFAULTS = {
  /** @default 45 s, Kafka's default session timeout */
  sessionTimeoutMs: 45 * SECOND,
  autoOffsetReset: 'latest',
} as const;

export const GROUP_LIMITS = {
  minSessionTimeoutMs: 10 * SECOND,
  maxSessionTimeoutMs: 300 * SECOND,
  /** Topics one member may subscribe to. */
  maxTopicsPerMember: 100,
  /** Offsets in one commit request. */
  maxOffsetsPerCommit: 1000,
  /**
   * Compare-and-set rounds one membership change may lose before it answers 503
   * unavailable (retriable). Each loss means another change landed.
   */
  maxRebalanceAttempts: 100,
  /**
   * Bytes of a group's state (members, their topics and assignments), as JSON: the state
   * is one DynamoDB item, whose limit is 400 KB; this leaves room for the item's own
   * overhead. A join that would pass it is refused (403 quota_exceeded), never a 500.
   */
  maxGroupStateBytes: 350 * 1024,
} as const;

/** Browser tokens (POST /v1/tokens): lifetime bounds and default, in seconds. */
export const TOKEN_TTL_SECONDS = { min: 60, max: 86_400, default: 3_600 } as const;

/** Permissions one browser token may carry (it travels in a URL, so it stays short). */
export const MAX_TOKEN_PERMISSIONS = 10;

/**
 * Server-Sent Event streams. A ping at least every `pingIntervalMs` carries the tail; a
 * healthy stream ends after `maxDurationMs` and the client reconnects with Last-Event-ID
 * (API contract: at least 60 s). `retryMs` is the reconnect delay sent to EventSource.
 */
export interface StreamTiming {
  pingIntervalMs: number;
  maxDurationMs: number;
  retryMs: number;
}

export const DEFAULT_STREAM_TIMING: StreamTiming = {
  pingIntervalMs: 15 * SECOND,
  maxDurationMs: 10 * MINUTE,
  retryMs: SECOND,
};
