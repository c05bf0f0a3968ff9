import type { StorageConfig } from '#shared/adapters/aws';
import { parseCorsOrigins } from '#shared/app/middleware/cors';

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

export const lambdaConfig = (env: Record<string, string | undefined>): LambdaConfig => ({
  storage: {
    tables: { metadata: required(env, 'RUNNEL_METADATA_TABLE'), log: required(env, 'RUNNEL_LOG_TABLE') },
    bucket: required(env, 'RUNNEL_SEGMENT_BUCKET'),
  },
  operatorSecretArn: env.RUNNEL_OPERATOR_SECRET_ARN || undefined,
  operatorKeyHash: env.RUNNEL_OPERATOR_KEY_HASH || undefined,
  s3ForcePathStyle: env.RUNNEL_S3_FORCE_PATH_STYLE === 'true',
  corsOrigins: parseCorsOrigins(env.RUNNEL_CORS_ORIGINS),
});
