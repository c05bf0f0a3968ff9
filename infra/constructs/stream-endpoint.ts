import { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { CORS_POLICY } from '#shared/app/cors-policy';
import type { DeployConfig } from '../config';
import { RunnelFunction } from './runnel-function';

/** Lambda's longest timeout; a response stream cannot outlive its invocation. */
export const STREAM_FUNCTION_TIMEOUT = Duration.minutes(15);
/**
 * A stream ends this long before the timeout: time to finish the event being sent and
 * close the response, so EventSource sees a clean end and reconnects with Last-Event-ID
 * instead of an invocation killed mid-event.
 */
export const STREAM_END_MARGIN = Duration.minutes(1);

export interface RunnelStreamEndpointProps {
  config: DeployConfig;
  projectRoot: string;
  environment: Record<string, string>;
  /**
   * The web console's origin (the API's own), allowed by CORS besides the configured
   * origins; `any` allows every origin, for when it cannot be named (the API behind its
   * Function URL). Streams authenticate with a key or token sent explicitly, never a
   * cookie, so CORS guards no ambient credential here.
   */
  consoleOrigin: string | 'any';
  /**
   * Concurrent streams at most: each open stream holds one invocation, reserved so
   * streams can never take the API function's concurrency. @default 100
   */
  maxStreams?: number;
}

/**
 * The second front door, for Server-Sent Events: API Gateway HTTP APIs buffer whole
 * responses, so streams are served by a function in response-streaming mode behind a
 * Function URL. The app authenticates every request itself (API key, or a browser token
 * in `?access_token=`), so the URL's auth type is NONE: a browser's EventSource cannot
 * sign requests. The function answers stream requests only. CORS is the URL's.
 */
export class RunnelStreamEndpoint extends Construct {
  readonly function: RunnelFunction;
  readonly functionUrl: lambda.FunctionUrl;

  constructor(
    scope: Construct,
    id: string,
    { config, projectRoot, environment, consoleOrigin, maxStreams = 100 }: RunnelStreamEndpointProps,
  ) {
    super(scope, id);
    const maxMs = STREAM_FUNCTION_TIMEOUT.minus(STREAM_END_MARGIN).toMilliseconds();
    this.function = new RunnelFunction(scope, 'StreamFunction', {
      entry: `${projectRoot}/functions/stream.ts`,
      projectRoot,
      description: 'Runnel Server-Sent Event streams (Function URL, response streaming)',
      // A stream spends its time waiting on the log's tail: little memory, billed per second held.
      memorySize: 256,
      timeout: STREAM_FUNCTION_TIMEOUT,
      reservedConcurrentExecutions: maxStreams,
      environment: { ...environment, RUNNEL_STREAM_MAX_MS: String(maxMs) },
      tracing: config.tracing,
      logRetention: config.logRetentionDays,
    });
    const origins = consoleOrigin === 'any' ? ['*'] : [...config.corsOrigins, consoleOrigin];
    this.functionUrl = this.function.addFunctionUrl({
      authType: lambda.FunctionUrlAuthType.NONE,
      invokeMode: lambda.InvokeMode.RESPONSE_STREAM,
      cors:
        origins.length > 0
          ? {
              allowedOrigins: origins,
              allowedMethods: [lambda.HttpMethod.GET],
              allowedHeaders: ['Authorization', 'Last-Event-ID'],
              exposedHeaders: CORS_POLICY.exposeHeaders.filter((h) => h === 'X-Request-Id' || h === 'Retry-After'),
              maxAge: Duration.seconds(CORS_POLICY.maxAgeSeconds),
            }
          : undefined,
    });
  }

  get url(): string {
    return this.functionUrl.url;
  }
}
