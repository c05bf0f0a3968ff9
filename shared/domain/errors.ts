/**
 * One error hierarchy for the whole service. Every error a route can throw carries the
 * API's stable snake_case `code`, the HTTP status it maps to and whether a client may
 * safely retry the same request. `app.onError` is the only place that turns these into
 * RFC 9457 problem responses.
 */
export type ErrorCode =
  | 'unauthorized'
  | 'forbidden'
  | 'invalid_request'
  | 'topic_not_found'
  | 'topic_exists'
  | 'partition_not_found'
  | 'offset_out_of_range'
  | 'record_too_large'
  | 'request_too_large'
  | 'group_not_found'
  | 'member_not_found'
  | 'fenced'
  | 'rebalance_in_progress'
  | 'duplicate_sequence'
  | 'out_of_order_sequence'
  | 'idempotency_key_reused'
  | 'idempotency_in_progress'
  | 'quota_exceeded'
  | 'throttled'
  | 'not_found'
  | 'method_not_allowed'
  | 'unsupported_media_type'
  | 'tenant_not_found'
  | 'key_not_found'
  | 'conflict'
  | 'unavailable'
  | 'internal';

const TITLES: Record<ErrorCode, string> = {
  unauthorized: 'Unauthorized',
  forbidden: 'Forbidden',
  invalid_request: 'Invalid request',
  topic_not_found: 'Topic not found',
  topic_exists: 'Topic already exists',
  partition_not_found: 'Partition not found',
  offset_out_of_range: 'Offset out of range',
  record_too_large: 'Record too large',
  request_too_large: 'Request too large',
  group_not_found: 'Consumer group not found',
  member_not_found: 'Member not found',
  fenced: 'Fenced',
  rebalance_in_progress: 'Rebalance in progress',
  duplicate_sequence: 'Duplicate sequence',
  out_of_order_sequence: 'Out of order sequence',
  idempotency_key_reused: 'Idempotency key reused',
  idempotency_in_progress: 'Idempotent request in progress',
  quota_exceeded: 'Quota exceeded',
  throttled: 'Throttled',
  not_found: 'Not found',
  method_not_allowed: 'Method not allowed',
  unsupported_media_type: 'Unsupported media type',
  tenant_not_found: 'Tenant not found',
  key_not_found: 'API key not found',
  conflict: 'Conflict',
  unavailable: 'Service unavailable',
  internal: 'Internal error',
};

export interface RunnelErrorOptions {
  /** Extra members of the problem document (e.g. `logStartOffset`). */
  extensions?: Record<string, unknown>;
  /** Seconds a client should wait before retrying (sets `Retry-After`). */
  retryAfterSeconds?: number;
  /** Response headers to add (e.g. `Allow` on 405). */
  headers?: Record<string, string>;
  cause?: unknown;
}

export class RunnelError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly extensions: Record<string, unknown>;
  readonly retryAfterSeconds: number | undefined;
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, status: number, detail: string, options: RunnelErrorOptions = {}) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RunnelError';
    this.code = code;
    this.status = status;
    this.extensions = options.extensions ?? {};
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.headers = options.headers ?? {};
  }

  get title(): string {
    return TITLES[this.code];
  }

  /** Whether repeating the identical request may succeed without any change by the client. */
  get retriable(): boolean {
    return (
      this.status === 429 ||
      this.status === 503 ||
      this.code === 'rebalance_in_progress' ||
      this.code === 'idempotency_in_progress'
    );
  }
}

export const invalidRequest = (detail: string, extensions?: Record<string, unknown>) =>
  new RunnelError('invalid_request', 400, detail, { extensions });

export const unauthorized = (detail = 'A valid API key is required: Authorization: Bearer <api key>.') =>
  new RunnelError('unauthorized', 401, detail);

export const forbidden = (detail: string) => new RunnelError('forbidden', 403, detail);

export const topicNotFound = (topic: string) =>
  new RunnelError('topic_not_found', 404, `Topic '${topic}' does not exist.`);

export const partitionNotFound = (topic: string, partition: number, partitions: number) =>
  new RunnelError(
    'partition_not_found',
    404,
    `Topic '${topic}' has ${partitions} partition(s) (0..${partitions - 1}); partition ${partition} does not exist.`,
  );

export const offsetOutOfRange = (offset: number, logStartOffset: number, highWatermark: number) =>
  new RunnelError(
    'offset_out_of_range',
    416,
    `Offset ${offset} is outside the log [${logStartOffset}, ${highWatermark}].`,
    { extensions: { logStartOffset, highWatermark } },
  );

export const unavailable = (detail: string, retryAfterSeconds = 1, cause?: unknown) =>
  new RunnelError('unavailable', 503, detail, { retryAfterSeconds, cause });
