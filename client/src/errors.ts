/**
 * The one error type of the SDK: every failed call, whether the server answered with a
 * problem document or the network failed, surfaces as a {@link RunnelError}.
 */

/** The stable codes of the API's problem documents, plus the SDK's own (`network`, `timeout`, `closed`, `aborted`). */
export type RunnelErrorCode =
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
  | 'group_not_empty'
  | 'connector_not_found'
  | 'connector_exists'
  | 'token_expired'
  | 'conflict'
  | 'unavailable'
  | 'internal'
  | 'network'
  | 'timeout'
  | 'closed'
  | 'aborted'
  // A code this SDK version does not know yet still comes through as a string.
  | (string & {});

/** A member's assignment as the group reports it: topics and their partitions. */
export interface TopicPartitions {
  /** The topic. */
  topic: string;
  /** Its partitions. */
  partitions: number[];
}

/** Fields of a problem document the SDK reads. */
export interface ProblemDocument {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
  [extension: string]: unknown;
}

/** Options of {@link RunnelError}'s constructor. */
export interface RunnelErrorOptions {
  /** The problem document as the server sent it. */
  problem?: ProblemDocument;
  /** Milliseconds the server asked to wait (`Retry-After`). */
  retryAfterMs?: number;
  /** Force whether the call may be repeated; by default derived from status and code. */
  retriable?: boolean;
  /** The underlying error (a network failure). */
  cause?: unknown;
}

const RETRIABLE_CODES = new Set([
  'rebalance_in_progress',
  'idempotency_in_progress',
  'network',
  'timeout',
  'unavailable',
]);

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/**
 * A failed call. `code` is the API's stable snake_case code (or `network`, `timeout`,
 * `closed`, `aborted` for failures that never got an answer); `status` the HTTP status
 * (0 without an answer); `retriable` whether repeating the identical request may succeed;
 * and the recovery values the server sent are typed fields.
 *
 * @example
 * ```ts
 * try { await runnel.topics.create({ name: 'orders', partitions: 3 }); }
 * catch (e) { if (e instanceof RunnelError && e.code === 'topic_exists') { ... } else throw e; }
 * ```
 */
export class RunnelError extends Error {
  /** The API's code (`topic_not_found`, `throttled`, …) or `network`/`timeout`/`closed`/`aborted`. */
  readonly code: RunnelErrorCode;
  /** The HTTP status; 0 when no response arrived. */
  readonly status: number;
  /** The problem's title. */
  readonly title: string;
  /** The problem's `detail`: what went wrong, in a sentence. */
  readonly detail: string;
  /** Whether repeating the identical request may succeed. */
  readonly retriable: boolean;
  /** `Retry-After` in milliseconds, when the server sent one (429, 503). */
  readonly retryAfterMs: number | undefined;
  /** On `out_of_order_sequence`: the sequence the server expects next. */
  readonly expectedSequence: number | undefined;
  /** On `duplicate_sequence`: the producer's last sequence. */
  readonly lastSequence: number | undefined;
  /** On `topic_exists`: the topic that holds the name. */
  readonly existing: { name: string; partitions: number; retentionMs: number; createdAt: number } | undefined;
  /** On `offset_out_of_range`: the partition's first offset. */
  readonly logStartOffset: number | undefined;
  /** On `offset_out_of_range`: the partition's high watermark. */
  readonly highWatermark: number | undefined;
  /** On `rebalance_in_progress` (and `fenced` where the server sends it): the group's current generation. */
  readonly generation: number | undefined;
  /** On `rebalance_in_progress`: the member's partitions in the current generation (carry on with these; no re-join). */
  readonly assignments: TopicPartitions[] | undefined;
  /** The whole problem document, extensions included. */
  readonly problem: ProblemDocument;

  constructor(code: RunnelErrorCode, status: number, detail: string, options: RunnelErrorOptions = {}) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RunnelError';
    const problem = options.problem ?? {};
    this.code = code;
    this.status = status;
    this.title = typeof problem.title === 'string' ? problem.title : code;
    this.detail = detail;
    this.problem = problem;
    this.retryAfterMs = options.retryAfterMs;
    this.retriable =
      options.retriable ??
      (status === 429 || status === 503 || status === 502 || status === 504 || RETRIABLE_CODES.has(code));
    this.expectedSequence = num(problem.expectedSequence);
    this.lastSequence = num(problem.lastSequence);
    this.existing =
      problem.existing && typeof problem.existing === 'object'
        ? (problem.existing as RunnelError['existing'])
        : undefined;
    this.logStartOffset = num(problem.logStartOffset);
    this.highWatermark = num(problem.highWatermark);
    this.generation = num(problem.generation);
    this.assignments = Array.isArray(problem.assignments) ? (problem.assignments as TopicPartitions[]) : undefined;
  }

  /** A problem response turned into an error (the body already parsed, or undefined when it was not JSON). */
  static fromResponse(response: Response, body: unknown): RunnelError {
    const problem: ProblemDocument = body && typeof body === 'object' ? (body as ProblemDocument) : {};
    const code = typeof problem.code === 'string' ? problem.code : codeForStatus(response.status);
    const detail =
      typeof problem.detail === 'string'
        ? problem.detail
        : `${response.status} ${response.statusText || 'error'}`.trim();
    // The problem's own `retryAfterMs` is finer than the header's whole seconds.
    const retryAfterMs = num(problem.retryAfterMs) ?? parseRetryAfter(response.headers.get('retry-after'));
    return new RunnelError(code, response.status, detail, {
      problem,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  }
}

const codeForStatus = (status: number): string =>
  status === 401
    ? 'unauthorized'
    : status === 403
      ? 'forbidden'
      : status === 404
        ? 'not_found'
        : status === 429
          ? 'throttled'
          : status === 503
            ? 'unavailable'
            : status >= 500
              ? 'internal'
              : 'invalid_request';

/** `Retry-After` as seconds or an HTTP date, in milliseconds. */
export const parseRetryAfter = (value: string | null, now = Date.now()): number | undefined => {
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
};

/** Throws a `TypeError` naming the option when `ok` is false: bad options are refused, never clamped. */
export const checkOption = (ok: boolean, message: string): void => {
  if (!ok) throw new TypeError(`@runnel/client: ${message}`);
};
