import * as z from 'zod';

/**
 * Connectors: managed pipelines between topics and the world outside, run by the
 * service itself. A source produces into a topic (`datagen`); a sink consumes topics as
 * the consumer group `connect-<name>` and delivers elsewhere (`http-sink`, `s3-sink`).
 * This module holds what a connector is and how its configuration is checked; the
 * runtime is in shared/services/connectors/.
 */
export const CONNECTOR_KINDS = ['datagen', 'http-sink', 's3-sink'] as const;
export type ConnectorKind = (typeof CONNECTOR_KINDS)[number];

export const CONNECTOR_STATES = ['running', 'paused', 'failed', 'completed'] as const;
export type ConnectorState = (typeof CONNECTOR_STATES)[number];

export const DATAGEN_TEMPLATES = ['orders', 'users', 'pageviews', 'stock-trades'] as const;
export type DatagenTemplate = (typeof DATAGEN_TEMPLATES)[number];

/** Kafka's rule for topic names (the same as the API's). */
const TopicName = z
  .string()
  .regex(/^[a-zA-Z0-9._-]{1,249}$/, 'Topic names are 1-249 characters of [a-zA-Z0-9._-].')
  .refine((s) => s !== '.' && s !== '..', 'A topic name cannot be "." or "..".');

const Topics = z
  .array(TopicName)
  .min(1)
  .max(100)
  .refine((t) => new Set(t).size === t.length, 'topics are listed once each.');

/** HTTP header names (RFC 9110 token) and values without control characters. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]{0,8192}$/;
/** Headers the sink sets itself; a connector cannot override them. */
const RESERVED_HEADERS = new Set(['content-type', 'content-length', 'host', 'transfer-encoding', 'connection']);

const Headers = z
  .record(z.string(), z.string())
  .refine((h) => Object.keys(h).length <= 20, 'headers has at most 20 entries.')
  .superRefine((h, ctx) => {
    for (const [name, value] of Object.entries(h)) {
      if (!HEADER_NAME.test(name)) ctx.addIssue({ code: 'custom', message: `'${name}' is not a valid header name.` });
      else if (RESERVED_HEADERS.has(name.toLowerCase())) {
        ctx.addIssue({ code: 'custom', message: `Header '${name}' is set by the connector itself.` });
      }
      // The value is a secret: never echoed in a message.
      if (!HEADER_VALUE.test(value))
        ctx.addIssue({ code: 'custom', message: `The value of header '${name}' is invalid.` });
    }
  });

export const DatagenConfigSchema = z
  .object({
    topic: TopicName,
    template: z.enum(DATAGEN_TEMPLATES),
    /** @default 1 */
    recordsPerSecond: z.number().int().min(1).max(1000).default(1),
    /** Stop (state `completed`) after this many records; unbounded when absent. */
    maxRecords: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
  })
  .strict();

export const HttpSinkConfigSchema = z
  .object({
    topics: Topics,
    url: z.string().min(1).max(2048),
    /** Write-only: stored, sent with every request, never returned or logged. */
    headers: Headers.optional(),
    /** @default 100 */
    batchMaxRecords: z.number().int().min(1).max(1000).default(100),
    /** @default 1000 */
    batchMaxWaitMs: z.number().int().min(0).max(60_000).default(1000),
    /** @default 10 */
    maxRetries: z.number().int().min(0).max(100).default(10),
    deadLetterTopic: TopicName.optional(),
  })
  .strict();

/** An IAM role ARN, in any partition. */
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
/** S3 bucket naming rules (the common subset: lower case, digits, dots, hyphens). */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export const S3SinkConfigSchema = z
  .object({
    topics: Topics,
    bucket: z
      .string()
      .regex(BUCKET, 'bucket is 3-63 characters of [a-z0-9.-], starting and ending with a letter or digit.'),
    /** Prepended to every object key, e.g. `raw/`. @default '' */
    prefix: z
      .string()
      .max(512)
      .regex(/^[a-zA-Z0-9!_.*'()/=-]*$/, "prefix uses S3-safe characters only ([a-zA-Z0-9!_.*'()/=-]).")
      .refine((p) => !p.startsWith('/'), 'prefix does not start with "/".')
      .default(''),
    /** The role the service assumes (with the tenant id as external id) to write to the bucket. Required in AWS. */
    roleArn: z.string().regex(ROLE_ARN, 'roleArn is an IAM role ARN (arn:aws:iam::<account>:role/<name>).').optional(),
    /** Rotate an object once it holds this many bytes of records. @default 8 MiB */
    flushMaxBytes: z
      .number()
      .int()
      .min(1024)
      .max(64 * 1024 * 1024)
      .default(8 * 1024 * 1024),
    /** Rotate an object at the latest this long after its first record was seen. @default 60 s */
    flushMaxMs: z.number().int().min(0).max(3_600_000).default(60_000),
  })
  .strict();

export type DatagenConfig = z.output<typeof DatagenConfigSchema>;
export type HttpSinkConfig = z.output<typeof HttpSinkConfigSchema>;
export type S3SinkConfig = z.output<typeof S3SinkConfigSchema>;

export type ConnectorConfig =
  | { kind: 'datagen'; config: DatagenConfig }
  | { kind: 'http-sink'; config: HttpSinkConfig }
  | { kind: 's3-sink'; config: S3SinkConfig };

export const CONFIG_SCHEMAS = {
  datagen: DatagenConfigSchema,
  'http-sink': HttpSinkConfigSchema,
  's3-sink': S3SinkConfigSchema,
} as const;

/** What a connector reports about its work. */
export interface ConnectorStatus {
  /** Records produced (source) or delivered, dead-lettered included (sink). */
  records: number;
  lastError?: string;
  lastErrorAt?: number;
}

/** A stored connector. `config` holds the secrets; {@link redactConfig} is what leaves the service. */
export interface Connector {
  tenantId: string;
  name: string;
  /** Identifies this incarnation: a deleted and recreated connector starts over (and produces as a new producer). */
  connectorId: string;
  kind: ConnectorKind;
  config: Record<string, unknown>;
  state: ConnectorState;
  createdAt: number;
  updatedAt: number;
  status: ConnectorStatus;
}

/** The consumer group a sink consumes as: its position and lag show in the groups API. */
export const sinkGroup = (name: string) => `connect-${name}`;

export const REDACTED = '<redacted>';

/** The configuration as the API shows it: header values (secrets) replaced by {@link REDACTED}. */
export const redactConfig = (config: Record<string, unknown>): Record<string, unknown> => {
  const headers = config.headers;
  if (!headers || typeof headers !== 'object') return config;
  return { ...config, headers: Object.fromEntries(Object.keys(headers).map((name) => [name, REDACTED])) };
};

/** The topics a connector reads (sinks) or writes (sources, dead letters): what a key must be allowed to touch. */
export const topicAccess = (
  kind: ConnectorKind,
  config: Record<string, unknown>,
): { produce: string[]; consume: string[] } => {
  if (kind === 'datagen') return { produce: [String(config.topic)], consume: [] };
  const consume = (config.topics as string[]) ?? [];
  const produce = typeof config.deadLetterTopic === 'string' ? [config.deadLetterTopic] : [];
  return { produce, consume };
};

export type ConfigParseResult =
  | { ok: true; config: Record<string, unknown> }
  | { ok: false; issues: { path: PropertyKey[]; message: string }[] };

/** Checks a kind's configuration and fills in its defaults; issue paths start at `config`. */
export const parseConnectorConfig = (kind: ConnectorKind, raw: unknown): ConfigParseResult => {
  const result = CONFIG_SCHEMAS[kind].safeParse(raw);
  if (result.success) return { ok: true, config: result.data as Record<string, unknown> };
  return {
    ok: false,
    issues: result.error.issues.map((issue) => ({ path: ['config', ...issue.path], message: issue.message })),
  };
};

/**
 * A PATCH's config over the current one: a field given replaces it, `null` removes an
 * optional field, `headers` are replaced as a whole, and a header sent back as
 * {@link REDACTED} (as GET shows it) keeps its stored value.
 */
export const mergeConfig = (
  current: Record<string, unknown>,
  patch: Record<string, unknown>,
): Record<string, unknown> => {
  const next: Record<string, unknown> = { ...current };
  for (const [field, value] of Object.entries(patch)) {
    if (value === null) delete next[field];
    else next[field] = value;
  }
  const headers = patch.headers;
  if (headers && typeof headers === 'object') {
    const stored = (current.headers ?? {}) as Record<string, string>;
    next.headers = Object.fromEntries(
      Object.entries(headers as Record<string, unknown>).map(([name, value]) => [
        name,
        value === REDACTED && name in stored ? stored[name] : value,
      ]),
    );
  }
  return next;
};
