import { fileURLToPath } from 'node:url';
import { getConnInfo, handle } from 'hono/aws-lambda';
import { awsPorts } from '#shared/adapters/aws';
import { createSdkClients } from '#shared/adapters/sdk-clients';
import { SdkErrorCounter } from '#shared/adapters/sdk-error-counter';
import { createApp } from '#shared/app/create-app';
import { SEGMENT_CACHE_BYTES } from '#shared/constants';
import { hashApiKey } from '#shared/domain/api-keys';
import { apiFunctionConfig } from '#shared/hosts/config';
import { type LambdaContext, lambdaTelemetry } from '#shared/hosts/lambda-telemetry';

// Built once per execution environment (cold start), reused by every invocation.
const config = apiFunctionConfig(process.env);
const telemetry = lambdaTelemetry(config.telemetry);
const { dynamodb, s3 } = createSdkClients({ s3ForcePathStyle: config.s3ForcePathStyle });

const storageErrors = new SdkErrorCounter();
storageErrors.attach(dynamodb, 'DynamoDB');
storageErrors.attach(s3, 'S3');

/**
 * The operator key is read from its secret on the first operator request, not at start:
 * a start then waits for no Secrets Manager call, and the client is loaded only then.
 */
const readOperatorKeyHash = async (secretArn: string): Promise<string | undefined> => {
  const { GetSecretValueCommand, SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
  const secret = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: secretArn }));
  // Only the hash stays in memory.
  return secret.SecretString ? hashApiKey(secret.SecretString) : undefined;
};
const { operatorSecretArn } = config;

const app = createApp({
  ...awsPorts({ dynamodb, s3 }, config.storage),
  operatorKeyHash:
    config.operatorKeyHash ?? (operatorSecretArn ? () => readOperatorKeyHash(operatorSecretArn) : undefined),
  corsOrigins: config.corsOrigins,
  exactlyOnce: { timing: config.exactlyOnceTiming },
  // In AWS: public https destinations only, s3-sinks through the tenant's role.
  connectorPolicy: { destinations: config.connectorDestinations, reservedBuckets: [config.storage.bucket] },
  segmentCacheBytes: SEGMENT_CACHE_BYTES,
  log: telemetry.log,
  metrics: telemetry.metrics,
  // Both front doors (the Function URL, buffered, or API Gateway) buffer responses:
  // streams are the stream function's (StreamUrl).
  streamsElsewhere: true,
  // The event's sourceIp (Function URL or API Gateway): the address the front door saw,
  // not a header the caller can set.
  clientAddress: (c) =>
    (c.env as { requestContext?: unknown } | undefined)?.requestContext ? getConnInfo(c).remote.address : undefined,
  // The console's build is copied beside the bundle (infra/stack.ts); its live tail uses the stream endpoint.
  console: { dir: fileURLToPath(new URL('./console', import.meta.url)), streamUrl: config.streamUrl },
});
const serve = handle(app);

export const handler = async (...[event, context]: Parameters<typeof serve>) => {
  // Every log line of this invocation carries the Lambda and front door request ids.
  const apiRequestId = (event.requestContext as { requestId?: string } | undefined)?.requestId;
  telemetry.startInvocation(context as LambdaContext | undefined, { apiRequestId });
  try {
    return await serve(event, context);
  } finally {
    const storage = storageErrors.drain();
    if (storage.length > 0) telemetry.metrics.publish(storage, { apiRequestId });
  }
};
