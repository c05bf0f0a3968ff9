import * as v from 'valibot';
import { type Issue, int, issuesOf } from '#shared/domain/validation';

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
const TopicName = v.pipe(
  v.string(),
  v.regex(/^[a-zA-Z0-9._-]{1,249}$/, 'Topic names are 1-249 characters of [a-zA-Z0-9._-].'),
  v.check((s) => s !== '.' && s !== '..', 'A topic name cannot be "." or "..".'),
);

const Topics = v.pipe(
  v.array(TopicName),
  v.minLength(1),
  v.maxLength(100),
  v.check((t) => new Set(t).size === t.length, 'topics are listed once each.'),
);

/** HTTP header names (RFC 9110 token) and values without control characters. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]{0,8192}$/;
/** Headers the sink sets itself; a connector cannot override them. */
const RESERVED_HEADERS = new Set(['content-type', 'content-length', 'host', 'transfer-encoding', 'connection']);

const Headers = v.pipe(
  v.record(v.string(), v.string()),
  v.maxEntries(20, 'headers has at most 20 entries.'),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    for (const [name, value] of Object.entries(dataset.value)) {
      if (!HEADER_NAME.test(name)) addIssue({ message: `'${name}' is not a valid header name.` });
      else if (RESERVED_HEADERS.has(name.toLowerCase())) {
        addIssue({ message: `Header '${name}' is set by the connector itself.` });
      }
      // The value is a secret: never echoed in a message.
      if (!HEADER_VALUE.test(value)) addIssue({ message: `The value of header '${name}' is invalid.` });
    }
  }),
);

const count = (min: number, max: number) => v.pipe(int(), v.minValue(min), v.maxValue(max));

export const DatagenConfigSchema = v.strictObject({
  topic: TopicName,
  template: v.picklist(DATAGEN_TEMPLATES),
  /** @default 1 */
  recordsPerSecond: v.optional(count(1, 1000), 1),
  /** Stop (state `completed`) after this many records; unbounded when absent. */
  maxRecords: v.optional(v.pipe(int(), v.minValue(1))),
});

export const HttpSinkConfigSchema = v.strictObject({
  topics: Topics,
  url: v.pipe(v.string(), v.minLength(1), v.maxLength(2048)),
  /** Write-only: stored, sent with every request, never returned or logged. */
  headers: v.optional(Headers),
  /** @default 100 */
  batchMaxRecords: v.optional(count(1, 1000), 100),
  /** @default 1000 */
  batchMaxWaitMs: v.optional(count(0, 60_000), 1000),
  /** @default 10 */
  maxRetries: v.optional(count(0, 100), 10),
  deadLetterTopic: v.optional(TopicName),
});

/** An IAM role ARN, in any partition. */
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
/** S3 bucket naming rules (the common subset: lower case, digits, dots, hyphens). */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export const S3SinkConfigSchema = v.strictObject({
  topics: Topics,
  bucket: v.pipe(
    v.string(),
    v.regex(BUCKET, 'bucket is 3-63 characters of [a-z0-9.-], starting and ending with a letter or digit.'),
  ),
  /** Prepended to every object key, e.g. `raw/`. @default '' */
  prefix: v.optional(
    v.pipe(
      v.string(),
      v.maxLength(512),
      v.regex(/^[a-zA-Z0-9!_.*'()/=-]*$/, "prefix uses S3-safe characters only ([a-zA-Z0-9!_.*'()/=-])."),
      v.check((p) => !p.startsWith('/'), 'prefix does not start with "/".'),
    ),
    '',
  ),
  /** The role the service assumes (with the tenant id as external id) to write to the bucket. Required in AWS. */
  roleArn: v.optional(
    v.pipe(v.string(), v.regex(ROLE_ARN, 'roleArn is an IAM role ARN (arn:aws:iam::<account>:role/<name>).')),
  ),
  /** Rotate an object once it holds this many bytes of records. @default 8 MiB */
  flushMaxBytes: v.optional(count(1024, 64 * 1024 * 1024), 8 * 1024 * 1024),
  /** Rotate an object at the latest this long after its first record was seen. @default 60 s */
  flushMaxMs: v.optional(count(0, 3_600_000), 60_000),
});

export type DatagenConfig = v.InferOutput<typeof DatagenConfigSchema>;
export type HttpSinkConfig = v.InferOutput<typeof HttpSinkConfigSchema>;
export type S3SinkConfig = v.InferOutput<typeof S3SinkConfigSchema>;

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

export type ConfigParseResult = { ok: true; config: Record<string, unknown> } | { ok: false; issues: Issue[] };

/** Checks a kind's configuration and fills in its defaults; issue paths start at `config`. */
export const parseConnectorConfig = (kind: ConnectorKind, raw: unknown): ConfigParseResult => {
  const result = v.safeParse(CONFIG_SCHEMAS[kind], raw);
  if (result.success) return { ok: true, config: result.output as Record<string, unknown> };
  return {
    ok: false,
    issues: issuesOf(result.issues).map((issue) => ({ path: ['config', ...issue.path], message: issue.message })),
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
