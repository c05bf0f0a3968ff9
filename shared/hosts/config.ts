import * as v from 'valibot';
import type { StorageConfig } from '#shared/adapters/aws';
import { parseCorsOrigins } from '#shared/app/middleware/cors';
import { DEFAULT_EXACTLY_ONCE_TIMING, type ExactlyOnceTiming } from '#shared/constants';
import {
  type DestinationPolicy,
  LOCAL_DESTINATIONS,
  STRICT_DESTINATIONS,
} from '#shared/domain/connectors/destination-policy';
import { issuesOf } from '#shared/domain/validation';
import type { MaintenanceOptions } from '#shared/services/maintenance';

/**
 * Every environment variable a Runnel host reads, in one schema: the API function, the
 * maintenance function and local mode (`npm start`) parse the same one and take what
 * they need from it. Names only, never secrets, except the local keys that `npm start`
 * lets the developer choose.
 */
const text = v.optional(v.pipe(v.string(), v.trim(), v.minLength(1)));
const count = (what: string) =>
  v.optional(v.pipe(v.string(), v.trim(), v.regex(/^\d+$/, `must be a whole number of ${what}`), v.transform(Number)));
const flag = v.optional(v.picklist(['true', 'false']));

export const EnvSchema = v.pipe(
  v.object({
    // Storage (both functions; local mode uses its emulators' names).
    RUNNEL_METADATA_TABLE: text,
    RUNNEL_LOG_TABLE: text,
    RUNNEL_SEGMENT_BUCKET: text,
    /** Path-style S3 addressing (S3-compatible endpoints, tests). */
    RUNNEL_S3_FORCE_PATH_STYLE: flag,

    // The API (Lambda and local mode).
    /** ARN of the Secrets Manager secret that holds the operator key. */
    RUNNEL_OPERATOR_SECRET_ARN: text,
    /** Alternatively the operator key's SHA-256 (hex): not a secret, the key cannot be derived from it. */
    RUNNEL_OPERATOR_KEY_HASH: v.optional(
      v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 in lower-case hex')),
    ),
    /** Browser origins allowed by CORS, comma-separated; none by default. */
    RUNNEL_CORS_ORIGINS: v.optional(v.string()),
    RUNNEL_EXACTLY_ONCE_LEASE_MS: count('ms'),
    /** Where Server-Sent Event streams are served when not by the API itself (AWS: the stream Function URL); the web console follows topics live there. */
    RUNNEL_STREAM_URL: v.optional(
      v.pipe(v.string(), v.trim(), v.url('must be an https URL'), v.startsWith('https://', 'must be an https URL')),
    ),
    RUNNEL_EXACTLY_ONCE_SETTLE_MS: count('ms'),
    /** How long one Server-Sent Event stream lasts before it ends cleanly (clients reconnect); at least 60 s. */
    RUNNEL_STREAM_MAX_MS: v.optional(
      v.pipe(
        v.string(),
        v.trim(),
        v.regex(/^\d+$/, 'must be a whole number of ms'),
        v.transform(Number),
        v.minValue(60_000, 'must be at least 60000 (60 s)'),
      ),
    ),

    // The maintenance job (the maintenance function and local mode).
    RUNNEL_COMPACTION_TARGET_BYTES: count('bytes'),
    RUNNEL_MAINTENANCE_MAX_RUN_MS: count('ms'),
    RUNNEL_ORPHAN_GRACE_MS: count('ms'),

    // Connectors (the API, the connector worker function and local mode).
    /** Where http-sinks may deliver: `strict` (public https; the default in AWS) or `local` (loopback and http too; `npm start`'s default). */
    RUNNEL_CONNECTOR_DESTINATIONS: v.optional(v.picklist(['strict', 'local'])),
    /** Pause between two passes of the connector worker; 0 turns local mode's worker off. */
    RUNNEL_CONNECTOR_TICK_MS: count('ms (0 = off)'),

    // Telemetry (both functions; set by the CDK construct).
    RUNNEL_SERVICE_NAME: text,
    RUNNEL_METRICS_NAMESPACE: text,

    // Local mode only.
    PORT: v.optional(
      v.pipe(
        v.string(),
        v.trim(),
        v.regex(/^\d+$/, 'must be a port number'),
        v.transform(Number),
        v.maxValue(65_535, 'must be a port number (0-65535)'),
      ),
    ),
    HOST: text,
    RUNNEL_DATA_DIR: text,
    RUNNEL_OPERATOR_KEY: text,
    RUNNEL_DEV_API_KEY: text,
    /** How often `npm start` runs the maintenance job; 0 = never. */
    RUNNEL_MAINTENANCE_INTERVAL_MS: count('ms (0 = off)'),
  }),
  v.forward(
    v.check(
      (env) => {
        const lease = env.RUNNEL_EXACTLY_ONCE_LEASE_MS ?? DEFAULT_EXACTLY_ONCE_TIMING.leaseMs;
        const settle = env.RUNNEL_EXACTLY_ONCE_SETTLE_MS ?? DEFAULT_EXACTLY_ONCE_TIMING.settleMs;
        return settle > 0 && lease > settle;
      },
      ({ input }) =>
        `must be positive and below RUNNEL_EXACTLY_ONCE_LEASE_MS (settle ${input.RUNNEL_EXACTLY_ONCE_SETTLE_MS ?? DEFAULT_EXACTLY_ONCE_TIMING.settleMs}, lease ${input.RUNNEL_EXACTLY_ONCE_LEASE_MS ?? DEFAULT_EXACTLY_ONCE_TIMING.leaseMs})`,
    ),
    ['RUNNEL_EXACTLY_ONCE_SETTLE_MS'],
  ),
);

export type Env = v.InferOutput<typeof EnvSchema>;

/** A configuration the host cannot start with; the message names every bad variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment, or throws one {@link ConfigError} listing every problem. */
export const parseEnv = (raw: Record<string, string | undefined>): Env => {
  // Empty values count as unset, as a shell's `VAR= cmd` means.
  const present = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined && v !== ''));
  const result = v.safeParse(EnvSchema, present);
  if (result.success) return result.output;
  const problems = issuesOf(result.issues).map((i) => `${i.path.join('.')} ${i.message}`);
  throw new ConfigError(`Invalid environment: ${problems.join('; ')}`);
};

const required = <K extends keyof Env>(env: Env, name: K): NonNullable<Env[K]> => {
  const value = env[name];
  if (value === undefined) throw new ConfigError(`Missing environment variable ${name}`);
  return value as NonNullable<Env[K]>;
};

/** The table and bucket names of a deployment (both functions). */
const storageOf = (env: Env): StorageConfig => ({
  tables: { metadata: required(env, 'RUNNEL_METADATA_TABLE'), log: required(env, 'RUNNEL_LOG_TABLE') },
  bucket: required(env, 'RUNNEL_SEGMENT_BUCKET'),
});

/** What the app takes from the environment, on any host. */
export interface AppConfig {
  /** Browser origins allowed by CORS; none by default. */
  corsOrigins: string[];
  /** Exactly-once lease timing (docs/exactly-once.md); shorter values make crash tests quick. */
  exactlyOnceTiming: ExactlyOnceTiming;
  /** How long one event stream lasts; unset keeps DEFAULT_STREAM_TIMING's. */
  streamMaxDurationMs: number | undefined;
  /** Where http-sinks may deliver (docs/connectors.md, "Security"). */
  connectorDestinations: DestinationPolicy;
}

const destinationsOf = (env: Env, fallback: 'strict' | 'local'): DestinationPolicy =>
  (env.RUNNEL_CONNECTOR_DESTINATIONS ?? fallback) === 'local' ? LOCAL_DESTINATIONS : STRICT_DESTINATIONS;

const appConfigOf = (env: Env): AppConfig => ({
  connectorDestinations: destinationsOf(env, 'strict'),
  corsOrigins: parseCorsOrigins(env.RUNNEL_CORS_ORIGINS),
  exactlyOnceTiming: {
    leaseMs: env.RUNNEL_EXACTLY_ONCE_LEASE_MS ?? DEFAULT_EXACTLY_ONCE_TIMING.leaseMs,
    settleMs: env.RUNNEL_EXACTLY_ONCE_SETTLE_MS ?? DEFAULT_EXACTLY_ONCE_TIMING.settleMs,
  },
  streamMaxDurationMs: env.RUNNEL_STREAM_MAX_MS,
});

/** The maintenance job's tunables; unset ones keep the job's defaults. */
const maintenanceOptionsOf = (env: Env): Partial<MaintenanceOptions> => ({
  ...(env.RUNNEL_COMPACTION_TARGET_BYTES !== undefined ? { targetBytes: env.RUNNEL_COMPACTION_TARGET_BYTES } : {}),
  ...(env.RUNNEL_MAINTENANCE_MAX_RUN_MS !== undefined ? { maxRunMs: env.RUNNEL_MAINTENANCE_MAX_RUN_MS } : {}),
  ...(env.RUNNEL_ORPHAN_GRACE_MS !== undefined ? { orphanGraceMs: env.RUNNEL_ORPHAN_GRACE_MS } : {}),
});

/** The log lines' service name and the metrics' namespace (set by the CDK construct). */
const telemetryOf = (env: Env) => ({
  serviceName: env.RUNNEL_SERVICE_NAME,
  namespace: env.RUNNEL_METRICS_NAMESPACE,
});

/** A Lambda function's storage, S3 addressing and telemetry names. */
export interface FunctionConfig {
  storage: StorageConfig;
  s3ForcePathStyle: boolean;
  telemetry: { serviceName: string | undefined; namespace: string | undefined };
}

/** The API function's configuration. */
export interface ApiFunctionConfig extends FunctionConfig, AppConfig {
  /** ARN of the Secrets Manager secret that holds the operator key. */
  operatorSecretArn: string | undefined;
  /** Alternatively the operator key's SHA-256 (hex). */
  operatorKeyHash: string | undefined;
  /** The stream endpoint's URL when streams are served elsewhere (the console's live tail). */
  streamUrl: string | undefined;
}

export const apiFunctionConfig = (raw: Record<string, string | undefined>): ApiFunctionConfig => {
  const env = parseEnv(raw);
  return {
    storage: storageOf(env),
    s3ForcePathStyle: env.RUNNEL_S3_FORCE_PATH_STYLE === 'true',
    telemetry: telemetryOf(env),
    ...appConfigOf(env),
    operatorSecretArn: env.RUNNEL_OPERATOR_SECRET_ARN,
    operatorKeyHash: env.RUNNEL_OPERATOR_KEY_HASH,
    streamUrl: env.RUNNEL_STREAM_URL,
  };
};

/**
 * The stream function's configuration (streams only: no operator key). The stack sets
 * RUNNEL_STREAM_MAX_MS below the function's timeout, so a stream ends cleanly and
 * EventSource reconnects with Last-Event-ID.
 */
export interface StreamFunctionConfig extends FunctionConfig {
  streamMaxDurationMs: number | undefined;
}

export const streamFunctionConfig = (raw: Record<string, string | undefined>): StreamFunctionConfig => {
  const env = parseEnv(raw);
  return {
    storage: storageOf(env),
    s3ForcePathStyle: env.RUNNEL_S3_FORCE_PATH_STYLE === 'true',
    telemetry: telemetryOf(env),
    streamMaxDurationMs: env.RUNNEL_STREAM_MAX_MS,
  };
};

/** The maintenance function's configuration. */
export interface MaintenanceFunctionConfig extends FunctionConfig {
  options: Partial<MaintenanceOptions>;
}

export const maintenanceFunctionConfig = (raw: Record<string, string | undefined>): MaintenanceFunctionConfig => {
  const env = parseEnv(raw);
  return {
    storage: storageOf(env),
    s3ForcePathStyle: env.RUNNEL_S3_FORCE_PATH_STYLE === 'true',
    telemetry: telemetryOf(env),
    options: maintenanceOptionsOf(env),
  };
};

/** The connector worker function's configuration. */
export interface ConnectorWorkerFunctionConfig extends FunctionConfig {
  connectorDestinations: DestinationPolicy;
  /** @default 1000 */
  connectorTickMs: number;
}

export const connectorWorkerFunctionConfig = (
  raw: Record<string, string | undefined>,
): ConnectorWorkerFunctionConfig => {
  const env = parseEnv(raw);
  return {
    storage: storageOf(env),
    s3ForcePathStyle: env.RUNNEL_S3_FORCE_PATH_STYLE === 'true',
    telemetry: telemetryOf(env),
    connectorDestinations: destinationsOf(env, 'strict'),
    connectorTickMs: env.RUNNEL_CONNECTOR_TICK_MS ?? 1000,
  };
};

/** `npm start`'s configuration: where to listen and keep data, the chosen keys, the app and the job. */
export interface LocalConfig extends AppConfig {
  port: number;
  host: string;
  /** Relative to the working directory unless absolute. */
  dataDir: string;
  operatorKey: string | undefined;
  devApiKey: string | undefined;
  maintenanceIntervalMs: number;
  maintenance: Partial<MaintenanceOptions>;
  /** Pause between connector worker passes; 0 = no connectors run. */
  connectorTickMs: number;
}

export const localConfig = (raw: Record<string, string | undefined>): LocalConfig => {
  const env = parseEnv(raw);
  return {
    ...appConfigOf(env),
    port: env.PORT ?? 8080,
    host: env.HOST ?? '127.0.0.1',
    dataDir: env.RUNNEL_DATA_DIR ?? '.runnel',
    operatorKey: env.RUNNEL_OPERATOR_KEY,
    devApiKey: env.RUNNEL_DEV_API_KEY,
    maintenanceIntervalMs: env.RUNNEL_MAINTENANCE_INTERVAL_MS ?? 60_000,
    maintenance: maintenanceOptionsOf(env),
    connectorDestinations: destinationsOf(env, 'local'),
    connectorTickMs: env.RUNNEL_CONNECTOR_TICK_MS ?? 250,
  };
};
