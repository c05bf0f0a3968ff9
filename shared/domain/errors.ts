/**
 * One error taxonomy for the whole service. {@link ERRORS} is the only place that says,
 * for each of the API's stable snake_case codes, which HTTP status it maps to, its title
 * and whether a client may repeat the identical request and expect it to succeed.
 * Every {@link RunnelError} is built from a code of this table (no status is ever passed
 * by hand), and `app.onError` is the only place that turns one into an RFC 9457 problem.
 *
 * The values a client needs to recover travel as typed fields ({@link ProblemFields}),
 * rendered as members of the problem document, so a client SDK can map them.
 */
export const ERRORS = {
  unauthorized: { status: 401, title: 'Unauthorized', retriable: false },
  forbidden: { status: 403, title: 'Forbidden', retriable: false },
  invalid_request: { status: 400, title: 'Invalid request', retriable: false },
  topic_not_found: { status: 404, title: 'Topic not found', retriable: false },
  topic_exists: { status: 409, title: 'Topic already exists', retriable: false },
  partition_not_found: { status: 404, title: 'Partition not found', retriable: false },
  offset_out_of_range: { status: 416, title: 'Offset out of range', retriable: false },
  record_too_large: { status: 413, title: 'Record too large', retriable: false },
  request_too_large: { status: 413, title: 'Request too large', retriable: false },
  group_not_found: { status: 404, title: 'Consumer group not found', retriable: false },
  member_not_found: { status: 404, title: 'Member not found', retriable: false },
  /** The member is unknown or its session ran out: it must join again. */
  fenced: { status: 409, title: 'Fenced', retriable: false },
  /**
   * A live member spoke for a generation that is no longer the group's: the problem
   * carries the current `generation` and the member's `assignments`, to carry on with.
   */
  rebalance_in_progress: { status: 409, title: 'Rebalance in progress', retriable: false },
  duplicate_sequence: { status: 409, title: 'Duplicate sequence', retriable: false },
  out_of_order_sequence: { status: 409, title: 'Out of order sequence', retriable: false },
  idempotency_key_reused: { status: 422, title: 'Idempotency key reused', retriable: false },
  idempotency_in_progress: { status: 409, title: 'Idempotent request in progress', retriable: true },
  quota_exceeded: { status: 403, title: 'Quota exceeded', retriable: false },
  throttled: { status: 429, title: 'Throttled', retriable: true },
  not_found: { status: 404, title: 'Not found', retriable: false },
  method_not_allowed: { status: 405, title: 'Method not allowed', retriable: false },
  unsupported_media_type: { status: 415, title: 'Unsupported media type', retriable: false },
  /** A route that only streams was asked for something else than `text/event-stream`. */
  not_acceptable: { status: 406, title: 'Not acceptable', retriable: false },
  /** A browser token past its expiry: the page needs a new one from its backend. */
  token_expired: { status: 401, title: 'Token expired', retriable: false },
  tenant_not_found: { status: 404, title: 'Tenant not found', retriable: false },
  key_not_found: { status: 404, title: 'API key not found', retriable: false },
  connector_not_found: { status: 404, title: 'Connector not found', retriable: false },
  connector_exists: { status: 409, title: 'Connector already exists', retriable: false },
  conflict: { status: 409, title: 'Conflict', retriable: false },
  unavailable: { status: 503, title: 'Service unavailable', retriable: true },
  /** Nothing says whether the request took effect: retry only what is idempotent. */
  internal: { status: 500, title: 'Internal error', retriable: false },
} as const satisfies Record<string, { status: number; title: string; retriable: boolean }>;

export type ErrorCode = keyof typeof ERRORS;

/** A partition and the partitions of one topic a member owns (as in the group answers). */
export interface AssignedPartitions {
  topic: string;
  partitions: number[];
}

/** What a topic_exists problem says about the topic that holds the name. */
export interface ExistingTopic {
  name: string;
  partitions: number;
  retentionMs: number;
  createdAt: number;
}

/**
 * The typed members a problem document may carry besides type/title/status/detail/code,
 * each set only by the codes named on it.
 */
export interface ProblemFields {
  /** offset_out_of_range: the partition's bounds at the time of the request. */
  logStartOffset?: number;
  highWatermark?: number;
  /** out_of_order_sequence: the sequence the producer must send next. */
  expectedSequence?: number;
  /** duplicate_sequence: the producer's last sequence. */
  lastSequence?: number;
  /** topic_exists: the topic that already holds the name. */
  existing?: ExistingTopic;
  /** rebalance_in_progress (and fenced, when the group exists): the group's current generation. */
  generation?: number;
  /** rebalance_in_progress: the member's partitions in `generation`. */
  assignments?: AssignedPartitions[];
  /** throttled, unavailable, idempotency_in_progress: wait this long before retrying (also `Retry-After`, in seconds). */
  retryAfterMs?: number;
  /** quota_exceeded, throttled, record_too_large: the quota and its limit. */
  quota?: string;
  limit?: number;
  /** record_too_large: which record and its size. */
  index?: number;
  size?: number;
  /** invalid_request: each problem of the input, with the path of the field. */
  errors?: { path: string; message: string }[];
}

/** The problem members, in the order they are rendered. */
const FIELD_NAMES = [
  'logStartOffset',
  'highWatermark',
  'expectedSequence',
  'lastSequence',
  'existing',
  'generation',
  'assignments',
  'retryAfterMs',
  'quota',
  'limit',
  'index',
  'size',
  'errors',
] as const satisfies readonly (keyof ProblemFields)[];

export interface RunnelErrorOptions {
  /** method_not_allowed: the methods the route takes (the `Allow` header). */
  allow?: string[];
  cause?: unknown;
}

export class RunnelError extends Error {
  readonly code: ErrorCode;
  readonly fields: Readonly<ProblemFields>;
  readonly allow: readonly string[] | undefined;

  constructor(code: ErrorCode, detail: string, fields: ProblemFields = {}, options: RunnelErrorOptions = {}) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RunnelError';
    this.code = code;
    this.fields = fields;
    this.allow = options.allow;
  }

  get status(): number {
    return ERRORS[this.code].status;
  }

  get title(): string {
    return ERRORS[this.code].title;
  }

  /** Whether repeating the identical request may succeed without any change by the client. */
  get retriable(): boolean {
    return ERRORS[this.code].retriable;
  }

  /** Seconds for the `Retry-After` header (at least 1), when the problem says how long to wait. */
  get retryAfterSeconds(): number | undefined {
    const ms = this.fields.retryAfterMs;
    return ms === undefined ? undefined : Math.max(1, Math.ceil(ms / 1000));
  }

  /** The typed fields that are set, in a stable order, for the problem document. */
  problemFields(): Partial<ProblemFields> {
    const out: Record<string, unknown> = {};
    for (const name of FIELD_NAMES) if (this.fields[name] !== undefined) out[name] = this.fields[name];
    return out as Partial<ProblemFields>;
  }
}

/**
 * Storage (DynamoDB, S3) failed after the SDK's own retries for a reason that passes
 * (throttling, a 5xx of the service, a timeout, a broken connection). Thrown by the
 * storage adapters' error classifier, so nothing above them knows AWS error names.
 */
export class StorageUnavailableError extends RunnelError {
  constructor(cause: unknown) {
    super('unavailable', 'Storage is briefly unavailable; retry the request.', { retryAfterMs: 1000 }, { cause });
    this.name = 'StorageUnavailableError';
  }
}

/**
 * Codes of the errors ports throw (conditional writes that lost, objects that are gone):
 * services catch them by class and decide what they mean for the request. One that
 * escapes to `app.onError` is a bug and answers 500.
 */
export type PortErrorCode =
  | 'offset_taken'
  | 'append_contention'
  | 'lease_expired'
  | 'segment_not_found'
  | 'topic_name_taken'
  | 'stale_write'
  | 'claim_exists'
  | 'sequence_rejected'
  | 'claim_fenced'
  | 'group_changed'
  | 'member_not_live'
  | 'stale_generation'
  | 'connector_name_taken'
  | 'connector_lease_lost';

/** Base of every error a port (or the append protocol) throws; carries its {@link PortErrorCode}. */
export class PortError extends Error {
  constructor(
    readonly code: PortErrorCode,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export const invalidRequest = (detail: string, errors?: ProblemFields['errors']) =>
  new RunnelError('invalid_request', detail, errors ? { errors } : {});

export const unauthorized = (detail = 'A valid API key is required: Authorization: Bearer <api key>.') =>
  new RunnelError('unauthorized', detail);

export const forbidden = (detail: string) => new RunnelError('forbidden', detail);

export const tokenExpired = () =>
  new RunnelError('token_expired', 'The browser token has expired; mint a new one (POST /v1/tokens).');

export const topicNotFound = (topic: string) => new RunnelError('topic_not_found', `Topic '${topic}' does not exist.`);

export const partitionNotFound = (topic: string, partition: number, partitions: number) =>
  new RunnelError(
    'partition_not_found',
    `Topic '${topic}' has ${partitions} partition(s) (0..${partitions - 1}); partition ${partition} does not exist.`,
  );

export const offsetOutOfRange = (offset: number, logStartOffset: number, highWatermark: number) =>
  new RunnelError('offset_out_of_range', `Offset ${offset} is outside the log [${logStartOffset}, ${highWatermark}].`, {
    logStartOffset,
    highWatermark,
  });

export const unavailable = (detail: string, retryAfterMs = 1000, cause?: unknown) =>
  new RunnelError('unavailable', detail, { retryAfterMs }, { cause });
