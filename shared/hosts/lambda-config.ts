import type { StorageConfig } from '#shared/adapters/aws';
import { parseCorsOrigins } from '#shared/app/middleware/cors';
import type { MaintenanceOptions } from '#shared/services/maintenance';

/** The API function's configuration: names only, never secrets, all from the environment. */
export interface LambdaConfig {
  storage: StorageConfig;
  /** ARN of the Secrets Manager secret that holds the operator key. */
  operatorSecretArn: string | undefined;
  /** Alternatively the operator key's SHA-256 (hex): not a secret, the key cannot be derived from it. */
  operatorKeyHash: string | undefined;
  /** Force path-style S3 addressing (S3-compatible endpoints, tests). */
  s3ForcePathStyle: boolean;
  /** Browser origins allowed by CORS (RUNNEL_CORS_ORIGINS, comma-separated); none by default. */
  corsOrigins: string[];
}

const required = (env: Record<string, string | undefined>, name: string): string => {
  const value = env[name];
  if (!value) throw new Error(`Missing environment variable ${name}`);
  return value;
};

/** What both functions need to reach their storage: the table and bucket names, and S3's addressing style. */
const storageFromEnv = (
  env: Record<string, string | undefined>,
): { storage: StorageConfig; s3ForcePathStyle: boolean } => ({
  storage: {
    tables: { metadata: required(env, 'RUNNEL_METADATA_TABLE'), log: required(env, 'RUNNEL_LOG_TABLE') },
    bucket: required(env, 'RUNNEL_SEGMENT_BUCKET'),
  },
  s3ForcePathStyle: env.RUNNEL_S3_FORCE_PATH_STYLE === 'true',
});

export const lambdaConfig = (env: Record<string, string | undefined>): LambdaConfig => {
  const { storage, s3ForcePathStyle } = storageFromEnv(env);
  return {
    storage,
    operatorSecretArn: env.RUNNEL_OPERATOR_SECRET_ARN || undefined,
    operatorKeyHash: env.RUNNEL_OPERATOR_KEY_HASH || undefined,
    s3ForcePathStyle,
    corsOrigins: parseCorsOrigins(env.RUNNEL_CORS_ORIGINS),
  };
};

/** The maintenance function's configuration: the storage names and the job's tunables. */
export interface MaintenanceConfig {
  storage: StorageConfig;
  s3ForcePathStyle: boolean;
  options: Partial<MaintenanceOptions>;
}

const optionalNumber = (env: Record<string, string | undefined>, name: string): number | undefined => {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number, not ${raw}`);
  return value;
};

/** Reads the job's options from `RUNNEL_COMPACTION_TARGET_BYTES`, `RUNNEL_MAINTENANCE_MAX_RUN_MS`, `RUNNEL_ORPHAN_GRACE_MS`. */
export const maintenanceOptionsFromEnv = (env: Record<string, string | undefined>): Partial<MaintenanceOptions> => {
  const options: Partial<MaintenanceOptions> = {};
  const target = optionalNumber(env, 'RUNNEL_COMPACTION_TARGET_BYTES');
  if (target !== undefined) options.targetBytes = target;
  const maxRun = optionalNumber(env, 'RUNNEL_MAINTENANCE_MAX_RUN_MS');
  if (maxRun !== undefined) options.maxRunMs = maxRun;
  const grace = optionalNumber(env, 'RUNNEL_ORPHAN_GRACE_MS');
  if (grace !== undefined) options.orphanGraceMs = grace;
  return options;
};

export const maintenanceConfig = (env: Record<string, string | undefined>): MaintenanceConfig => ({
  ...storageFromEnv(env),
  options: maintenanceOptionsFromEnv(env),
});
