import * as z from 'zod';
import { FETCH_DEFAULTS, FETCH_LIMITS } from '#shared/constants';

/** Kafka's rule for topic and group names; "." and ".." are refused as Kafka does. */
export const NameSchema = z
  .string()
  .regex(/^[a-zA-Z0-9._-]{1,249}$/, 'Names are 1-249 characters of [a-zA-Z0-9._-].')
  .refine((s) => s !== '.' && s !== '..', 'A name cannot be "." or "..".');

export const RetentionSchema = z
  .number()
  .int()
  .refine((n) => n === -1 || n > 0, 'retentionMs is a positive number of milliseconds, or -1 to keep records forever.')
  .meta({ description: 'Milliseconds a record is kept after it was appended; -1 keeps records forever.' });

export const EncodingSchema = z.enum(['utf8', 'base64']).meta({
  description: 'How key, value and header values are written in JSON. Binary data needs base64.',
});

export const TopicSchema = z
  .object({
    name: z.string(),
    partitions: z.number().int(),
    retentionMs: z.number().int(),
    createdAt: z.number().int(),
  })
  .meta({ id: 'Topic' });

export const PartitionStateSchema = z.object({
  partition: z.number().int(),
  logStartOffset: z.number().int(),
  highWatermark: z.number().int(),
  retainedBytes: z.number().int().meta({
    description:
      'Record bytes (key + value + headers) of the stored batches that hold records within retention; a batch partly past retention counts whole until it expires entirely.',
  }),
  segments: z.number().int().meta({
    description:
      'Stored batches holding records within retention: an inline batch, a range of a produce object, or a compacted segment each count one.',
  }),
  statsComplete: z.boolean().meta({
    description:
      'False when the partition holds more than 100 stored batches: a describe reads at most that many per partition, so `segments` and `retainedBytes` then count the first 100 (the offsets stay exact).',
  }),
});

export const CreateTopicSchema = z
  .object({
    name: NameSchema,
    partitions: z.number().int().min(1),
    retentionMs: RetentionSchema.optional(),
  })
  .strict()
  .meta({ id: 'CreateTopic' });

export const UpdateTopicSchema = z
  .object({
    partitions: z.number().int().min(1).optional(),
    retentionMs: RetentionSchema.optional(),
  })
  .strict()
  .meta({ id: 'UpdateTopic' });

const MAX_TIMESTAMP = 8_640_000_000_000_000;

export const HeaderSchema = z
  .object({
    key: z.string().max(1024),
    value: z.string().nullable(),
  })
  .strict();

export const RecordInputSchema = z
  .object({
    key: z.string().nullable().optional(),
    value: z.string().nullable().optional(),
    headers: z.array(HeaderSchema).max(1000).optional(),
    partition: z.number().int().min(0).optional(),
    timestamp: z.number().int().min(0).max(MAX_TIMESTAMP).optional(),
  })
  .strict()
  .meta({ id: 'Record' });

export const ProduceSchema = z
  .object({
    records: z.array(RecordInputSchema).min(1),
    encoding: EncodingSchema.default('utf8'),
    producerId: z.string().min(1).max(256).optional(),
    sequence: z.number().int().min(0).optional(),
  })
  .strict()
  .refine((body) => (body.producerId === undefined) === (body.sequence === undefined), {
    message: 'producerId and sequence go together.',
    path: ['sequence'],
  })
  .meta({ id: 'ProduceRequest' });

export const ProduceResponseSchema = z
  .object({
    offsets: z.array(z.object({ partition: z.number().int(), offset: z.number().int(), timestamp: z.number().int() })),
  })
  .meta({ id: 'ProduceResponse' });

/** An integer query parameter with bounds; out-of-range values are refused, never clamped. */
export const intQuery = (name: string, min: number, max: number, fallback: number) =>
  z
    .string()
    .regex(/^\d+$/, `${name} is a whole number.`)
    .transform(Number)
    .pipe(z.number().int().min(min, `${name} is at least ${min}.`).max(max, `${name} is at most ${max}.`))
    .optional()
    .transform((n) => n ?? fallback)
    .meta({ type: 'integer', minimum: min, maximum: max, default: fallback });

export const FetchQuerySchema = z.object({
  offset: z
    .string()
    .regex(/^(\d+|earliest|latest)$/, 'offset is a whole number, "earliest" or "latest".')
    .optional()
    .transform((s): number | 'earliest' | 'latest' =>
      s === undefined || s === 'earliest' ? 'earliest' : s === 'latest' ? 'latest' : Number(s),
    )
    .refine((o) => typeof o !== 'number' || Number.isSafeInteger(o), 'offset is too large.')
    .meta({ type: 'string', example: 'earliest', description: 'An offset, "earliest" (default) or "latest".' }),
  maxRecords: intQuery('maxRecords', 1, FETCH_LIMITS.maxRecords, FETCH_DEFAULTS.maxRecords),
  maxBytes: intQuery('maxBytes', 1, FETCH_LIMITS.maxBytes, FETCH_DEFAULTS.maxBytes),
  waitMs: intQuery('waitMs', 0, FETCH_LIMITS.waitMs, FETCH_DEFAULTS.waitMs),
  encoding: EncodingSchema.optional().transform((e) => e ?? 'utf8'),
});

export const FetchedRecordSchema = z
  .object({
    offset: z.number().int(),
    timestamp: z.number().int(),
    key: z.string().nullable(),
    value: z.string().nullable(),
    headers: z.array(z.object({ key: z.string(), value: z.string().nullable() })),
  })
  .meta({ id: 'FetchedRecord' });

export const FetchResponseSchema = z
  .object({
    records: z.array(FetchedRecordSchema),
    nextOffset: z.number().int(),
    highWatermark: z.number().int(),
    logStartOffset: z.number().int(),
  })
  .meta({ id: 'FetchResponse' });

export const TopicParamSchema = z.object({ topic: NameSchema });
export const PartitionParamSchema = z.object({
  topic: NameSchema,
  partition: z
    .string()
    .regex(/^\d+$/, 'partition is a whole number.')
    .transform(Number)
    .refine(Number.isSafeInteger, 'partition is too large.')
    .meta({ type: 'integer' }),
});

/**
 * RFC 9457 problem details, as every 4xx and 5xx answers them. `code` is stable; some
 * problems add fields a client can act on (`logStartOffset`/`highWatermark`, `quota`/`limit`,
 * `errors`, …).
 */
export const ProblemSchema = z
  .object({
    type: z.string().meta({ example: 'urn:runnel:problem:topic_not_found' }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string().meta({ example: 'topic_not_found' }),
  })
  .catchall(z.unknown())
  .meta({ id: 'Problem' });
