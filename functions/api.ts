import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { handle } from 'hono/aws-lambda';
import { awsPorts } from '#shared/adapters/aws';
import { createSdkClients } from '#shared/adapters/sdk-clients';
import { createApp } from '#shared/app/create-app';
import { SEGMENT_CACHE_BYTES } from '#shared/constants';
import { hashApiKey } from '#shared/domain/api-keys';
import { lambdaConfig } from '#shared/hosts/lambda-config';

// Built once per execution environment (cold start), reused by every invocation.
const config = lambdaConfig(process.env);
const { dynamodb, s3 } = createSdkClients({ s3ForcePathStyle: config.s3ForcePathStyle });

const readOperatorKeyHash = async (): Promise<string | undefined> => {
  if (config.operatorKeyHash) return config.operatorKeyHash;
  if (!config.operatorSecretArn) return undefined;
  const secret = await new SecretsManagerClient({}).send(
    new GetSecretValueCommand({ SecretId: config.operatorSecretArn }),
  );
  // Only the hash stays in memory.
  return secret.SecretString ? hashApiKey(secret.SecretString) : undefined;
};

const app = createApp({
  ...awsPorts({ dynamodb, s3 }, config.storage),
  operatorKeyHash: await readOperatorKeyHash(),
  corsOrigins: config.corsOrigins,
  segmentCacheBytes: SEGMENT_CACHE_BYTES,
});

export const handler = handle(app);
