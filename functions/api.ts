import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { handle } from 'hono/aws-lambda';
import { awsPorts } from '#shared/adapters/aws';
import { createApp } from '#shared/app/create-app';
import { SEGMENT_CACHE_BYTES } from '#shared/constants';
import { hashApiKey } from '#shared/domain/api-keys';
import { lambdaConfig } from '#shared/hosts/lambda-config';

// Built once per execution environment (cold start), reused by every invocation.
const config = lambdaConfig(process.env);
const dynamodb = new DynamoDBClient({});
const s3 = new S3Client({
  forcePathStyle: config.s3ForcePathStyle,
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
});

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
  segmentCacheBytes: SEGMENT_CACHE_BYTES,
});

export const handler = handle(app);
