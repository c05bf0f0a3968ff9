import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { DEFAULT_EXACTLY_ONCE_TIMING } from '#shared/constants';

/**
 * SDK retry and timeout settings, chosen for the API function's time budget (30 s) and
 * for the exactly-once lease (docs/exactly-once.md): one call, retries included, must
 * end well within `settleMs`, because a call still in flight when a writer's lease ends
 * could otherwise land after another attempt took over.
 *
 * DynamoDB: 3 attempts × (1 s connect + 2 s request) + backoff (≤ 0.2 + 0.4 s) ≈ 9.6 s.
 * S3: 3 attempts × (1 s connect + 10 s request) + backoff; a segment PUT is not a commit,
 * so it is bounded only by the function's budget.
 */
export const SDK_SETTINGS = {
  dynamodb: { maxAttempts: 3, connectionTimeoutMs: 1000, requestTimeoutMs: 2000 },
  s3: { maxAttempts: 3, connectionTimeoutMs: 1000, requestTimeoutMs: 10_000 },
} as const;

/** The longest one DynamoDB call can take, retries and their backoff included (ms). */
export const DYNAMODB_CALL_MAX_MS =
  SDK_SETTINGS.dynamodb.maxAttempts *
    (SDK_SETTINGS.dynamodb.connectionTimeoutMs + SDK_SETTINGS.dynamodb.requestTimeoutMs) +
  600;

if (DYNAMODB_CALL_MAX_MS >= DEFAULT_EXACTLY_ONCE_TIMING.settleMs) {
  throw new Error('A DynamoDB call must end within the exactly-once settle margin');
}

export interface SdkClientOptions {
  region?: string;
  endpoints?: { dynamodb?: string; s3?: string };
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Path-style S3 addressing (S3-compatible endpoints, the local emulator). */
  s3ForcePathStyle?: boolean;
}

const handler = (settings: { connectionTimeoutMs: number; requestTimeoutMs: number }) =>
  new NodeHttpHandler({
    connectionTimeout: settings.connectionTimeoutMs,
    requestTimeout: settings.requestTimeoutMs,
    throwOnRequestTimeout: true,
  });

/** The DynamoDB and S3 clients of a host (Lambda or local), built once per process. */
export const createSdkClients = (options: SdkClientOptions = {}) => {
  const common = {
    ...(options.region ? { region: options.region } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  };
  const dynamodb = new DynamoDBClient({
    ...common,
    ...(options.endpoints?.dynamodb ? { endpoint: options.endpoints.dynamodb } : {}),
    maxAttempts: SDK_SETTINGS.dynamodb.maxAttempts,
    requestHandler: handler(SDK_SETTINGS.dynamodb),
  });
  const s3 = new S3Client({
    ...common,
    ...(options.endpoints?.s3 ? { endpoint: options.endpoints.s3 } : {}),
    forcePathStyle: options.s3ForcePathStyle ?? false,
    maxAttempts: SDK_SETTINGS.s3.maxAttempts,
    requestHandler: handler(SDK_SETTINGS.s3),
    // S3-compatible endpoints (s3rver) predate the SDK's default CRC checksums.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return { dynamodb, s3 };
};
