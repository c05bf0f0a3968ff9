/**
 * Pure rules of the sinks: retry timing and the names of s3-sink objects.
 */

/** First retry delay of a failed http-sink batch. */
export const BACKOFF_BASE_MS = 500;
/** Longest delay between two attempts (also the cap on a receiver's Retry-After). */
export const BACKOFF_MAX_MS = 5 * 60_000;

/** Exponential backoff: 0.5 s, 1 s, 2 s, … up to {@link BACKOFF_MAX_MS}; a longer Retry-After wins. */
export const retryDelayMs = (attempt: number, retryAfterMs: number | undefined): number => {
  const exponential = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempt - 1));
  return Math.min(BACKOFF_MAX_MS, Math.max(exponential, retryAfterMs ?? 0));
};

/**
 * `Retry-After` as milliseconds: delay-seconds or an HTTP date (RFC 9110 §10.2.3);
 * undefined when absent or unreadable.
 */
export const parseRetryAfter = (value: string | null | undefined, now: number): number | undefined => {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
};

/** Statuses that are worth repeating the same batch for (API contract: 408, 429, 5xx). */
export const isRetriableStatus = (status: number) => status === 408 || status === 429 || status >= 500;

/** `YYYY-MM-DD` (UTC) of a timestamp. */
export const utcDate = (timestamp: number) => new Date(timestamp).toISOString().slice(0, 10);

/**
 * The object holding offsets first..last of a partition:
 * `<prefix>topic=<t>/partition=<p>/date=<YYYY-MM-DD>/<first>-<last>.jsonl.gz`, the date
 * being the first record's. Named by offsets only, so writing the same range again
 * (a retry) replaces the object rather than adding one.
 */
export const sinkObjectKey = (
  prefix: string,
  topic: string,
  partition: number,
  firstTimestamp: number,
  first: number,
  last: number,
) => `${prefix}topic=${topic}/partition=${partition}/date=${utcDate(firstTimestamp)}/${first}-${last}.jsonl.gz`;
