import { streamHandle } from 'hono/aws-lambda';
import { awsPorts } from '#shared/adapters/aws';
import { createSdkClients } from '#shared/adapters/sdk-clients';
import { createApp } from '#shared/app/create-app';
import { SEGMENT_CACHE_BYTES } from '#shared/constants';
import { streamFunctionConfig } from '#shared/hosts/config';
import { lambdaTelemetry } from '#shared/hosts/lambda-telemetry';

/**
 * The streaming front door: Server-Sent Event streams (and token minting) behind a Lambda
 * Function URL in response-streaming mode, because API Gateway HTTP APIs buffer whole
 * responses. The same app as the API function, limited to stream requests; CORS is the
 * Function URL's, and each stream ends before the function's timeout.
 */
const config = streamFunctionConfig(process.env);
const telemetry = lambdaTelemetry(config.telemetry);
const { dynamodb, s3 } = createSdkClients({ s3ForcePathStyle: config.s3ForcePathStyle });

const app = createApp({
  ...awsPorts({ dynamodb, s3 }, config.storage),
  // No operator API here: streamsOnly refuses /admin before the key is looked at.
  operatorKeyHash: undefined,
  segmentCacheBytes: SEGMENT_CACHE_BYTES,
  log: telemetry.log,
  metrics: telemetry.metrics,
  streamsOnly: true,
  ...(config.streamMaxDurationMs === undefined ? {} : { streams: { maxDurationMs: config.streamMaxDurationMs } }),
});

export const handler = streamHandle(app);
