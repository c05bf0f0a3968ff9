import * as v from 'valibot';
import { FETCH_DEFAULTS, FETCH_LIMITS } from '#shared/constants';
import { int } from '#shared/domain/validation';

/**
 * The schemas of the HTTP API. A `metadata` action with an `id` names a schema: the
 * OpenAPI document (scripts/openapi-document.ts) lists it once under `components/schemas`
 * and refers to it by `$ref`; `openapi` in a `metadata` action replaces how the document
 * shows a schema (a query string read as a number is documented as an integer).
 */

/** Kafka's rule for topic and group names; "." and ".." are refused as Kafka does. */
export const NameSchema = v.pipe(
  v.string(),
  v.regex(/^[a-zA-Z0-9._-]{1,249}$/, 'Names are 1-249 characters of [a-zA-Z0-9._-].'),
  v.check((s) => s !== '.' && s !== '..', 'A name cannot be "." or "..".'),
);

export const RetentionSchema = v.pipe(
  int(),
  v.check((n) => n === -1 || n > 0, 'retentionMs is a positive number of milliseconds, or -1 to keep records forever.'),
  v.description('Milliseconds a record is kept after it was appended; -1 keeps records forever.'),
);

export const EncodingSchema = v.pipe(
  v.picklist(['utf8', 'base64']),
  v.description('How key, value and header values are written in JSON. Binary data needs base64.'),
);

export const TopicSchema = v.pipe(
  v.object({ name: v.string(), partitions: int(), retentionMs: int(), createdAt: int() }),
  v.metadata({ id: 'Topic' }),
);

export const PartitionStateSchema = v.object({
  partition: int(),
  logStartOffset: int(),
  highWatermark: int(),
  retainedBytes: v.pipe(
    int(),
    v.description(
      'Record bytes (key + value + headers) of the stored batches that hold records within retention; a batch partly past retention counts whole until it expires entirely.',
    ),
  ),
  segments: v.pipe(
    int(),
    v.description(
      'Stored batches holding records within retention: an inline batch, a range of a produce object, or a compacted segment each count one.',
    ),
  ),
  statsComplete: v.pipe(
    v.boolean(),
    v.description(
      'False when the partition holds more than 100 stored batches: a describe reads at most that many per partition, so `segments` and `retainedBytes` then count the first 100 (the offsets stay exact).',
    ),
  ),
});

const MAX_TIMESTAMP = 8_640_000_000_000_000;

export const HeaderSchema = v.strictObject({
  key: v.pipe(v.string(), v.maxLength(1024)),
  value: v.nullable(v.string()),
});

export const RecordInputSchema = v.pipe(
  v.strictObject({
    key: v.optional(v.nullable(v.string())),
    value: v.optional(v.nullable(v.string())),
    headers: v.optional(v.pipe(v.array(HeaderSchema), v.maxLength(1000))),
    partition: v.optional(v.pipe(int(), v.minValue(0))),
    timestamp: v.optional(v.pipe(int(), v.minValue(0), v.maxValue(MAX_TIMESTAMP))),
  }),
  v.metadata({ id: 'Record' }),
);

export const ProduceSchema = v.pipe(
  v.strictObject({
    records: v.pipe(v.array(RecordInputSchema), v.minLength(1)),
    encoding: v.optional(EncodingSchema, 'utf8'),
    producerId: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(256))),
    sequence: v.optional(v.pipe(int(), v.minValue(0))),
  }),
  v.forward(
    v.check(
      (body) => (body.producerId === undefined) === (body.sequence === undefined),
      'producerId and sequence go together.',
    ),
    ['sequence'],
  ),
  v.metadata({ id: 'ProduceRequest' }),
);

export const ProduceResponseSchema = v.pipe(
  v.object({ offsets: v.array(v.object({ partition: int(), offset: int(), timestamp: int() })) }),
  v.metadata({ id: 'ProduceResponse' }),
);

const DIGITS = /^\d+$/;

/** A query string of digits, read as a number within bounds (documented as an integer). */
const wholeNumber = (name: string, min: number, max: number) =>
  v.pipe(
    v.string(),
    v.regex(DIGITS, `${name} is a whole number.`),
    v.metadata({ openapi: { type: 'integer', minimum: min, maximum: max } }),
    v.transform(Number),
    v.minValue(min, `${name} is at least ${min}.`),
    v.maxValue(max, `${name} is at most ${max}.`),
  );

/** An integer query parameter with bounds, `fallback` when absent; out-of-range values are refused, never clamped. */
export const intQuery = (name: string, min: number, max: number, fallback: number) =>
  v.pipe(v.optional(wholeNumber(name, min, max), String(fallback)), v.metadata({ default: fallback }));

/** An integer query parameter with bounds that may be absent (undefined). */
export const optionalIntQuery = (name: string, min: number, max: number) => v.optional(wholeNumber(name, min, max));

export const FetchQuerySchema = v.object({
  offset: v.pipe(
    v.optional(
      v.pipe(v.string(), v.regex(/^(\d+|earliest|latest)$/, 'offset is a whole number, "earliest" or "latest".')),
      'earliest',
    ),
    v.examples(['earliest']),
    v.description('An offset, "earliest" (default) or "latest".'),
    v.transform((s): number | 'earliest' | 'latest' => (s === 'earliest' || s === 'latest' ? s : Number(s))),
    v.check((o) => typeof o !== 'number' || Number.isSafeInteger(o), 'offset is too large.'),
  ),
  maxRecords: intQuery('maxRecords', 1, FETCH_LIMITS.maxRecords, FETCH_DEFAULTS.maxRecords),
  maxBytes: intQuery('maxBytes', 1, FETCH_LIMITS.maxBytes, FETCH_DEFAULTS.maxBytes),
  waitMs: intQuery('waitMs', 0, FETCH_LIMITS.waitMs, FETCH_DEFAULTS.waitMs),
  encoding: v.optional(EncodingSchema, 'utf8'),
});

export const FetchedRecordSchema = v.pipe(
  v.object({
    offset: int(),
    timestamp: int(),
    key: v.nullable(v.string()),
    value: v.nullable(v.string()),
    headers: v.array(v.object({ key: v.string(), value: v.nullable(v.string()) })),
  }),
  v.metadata({ id: 'FetchedRecord' }),
);

export const FetchResponseSchema = v.pipe(
  v.object({
    records: v.array(FetchedRecordSchema),
    nextOffset: int(),
    highWatermark: int(),
    logStartOffset: int(),
  }),
  v.metadata({ id: 'FetchResponse' }),
);

export const TopicParamSchema = v.object({ topic: NameSchema });
export const PartitionParamSchema = v.object({
  topic: NameSchema,
  partition: v.pipe(
    v.string(),
    v.regex(DIGITS, 'partition is a whole number.'),
    v.metadata({ openapi: { type: 'integer', minimum: 0 } }),
    v.transform(Number),
    v.check((n: number) => Number.isSafeInteger(n), 'partition is too large.'),
  ),
});

/**
 * RFC 9457 problem details, as every 4xx and 5xx answers them. `code` is stable; some
 * problems add fields a client can act on (`logStartOffset`/`highWatermark`, `quota`/`limit`,
 * `errors`, …).
 */
export const ProblemSchema = v.pipe(
  v.looseObject({
    type: v.pipe(v.string(), v.examples(['urn:runnel:problem:topic_not_found'])),
    title: v.string(),
    status: int(),
    detail: v.string(),
    code: v.pipe(v.string(), v.examples(['topic_not_found'])),
  }),
  v.metadata({ id: 'Problem' }),
);
