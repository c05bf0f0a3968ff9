import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { Emulators } from '#local/emulators';
import { hashApiKey } from '#shared/domain/api-keys';

/**
 * Lambda events and environment for tests that invoke a function's handler directly:
 * `httpApiEvent` as API Gateway (HTTP API, payload 2.0) sends a request, `functionUrlEvent`
 * as the function's own URL does, and `lambdaEnv` the environment the CDK construct gives
 * the API function, pointed at the emulators.
 */
export const httpApiEvent = (
  method: string,
  path: string,
  options: { body?: unknown; key?: string; query?: string; accept?: string } = {},
) =>
  ({
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: options.query ?? '',
    headers: {
      host: 'abc123.execute-api.eu-west-1.amazonaws.com',
      'content-type': 'application/json',
      ...(options.key ? { authorization: `Bearer ${options.key}` } : {}),
      ...(options.accept ? { accept: options.accept } : {}),
    },
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: 'abc123.execute-api.eu-west-1.amazonaws.com',
      domainPrefix: 'abc123',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.1', userAgent: 'test' },
      requestId: 'req-1',
      routeKey: '$default',
      stage: '$default',
      time: '22/Nov/2026:12:00:00 +0000',
      timeEpoch: 1_795_000_000_000,
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    isBase64Encoded: false,
  }) as APIGatewayProxyEventV2;

/** The same request as a Lambda Function URL sends it: payload 2.0, no API Gateway stage or API id. */
export const URL_HOST = 'xyz789abcdefghijklmnopqrstuvwxyz.lambda-url.eu-west-1.on.aws';
export const functionUrlEvent = (
  method: string,
  path: string,
  options: Parameters<typeof httpApiEvent>[2] & { sourceIp?: string } = {},
) => {
  const e = httpApiEvent(method, path, options);
  return {
    ...e,
    headers: { ...e.headers, host: URL_HOST },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'xyz789abcdefghijklmnopqrstuvwxyz',
      domainName: URL_HOST,
      domainPrefix: 'xyz789abcdefghijklmnopqrstuvwxyz',
      http: { ...e.requestContext.http, sourceIp: options.sourceIp ?? '198.51.100.7' },
      requestId: 'url-req-1',
      routeKey: '$default',
      stage: '$default',
      time: e.requestContext.time,
      timeEpoch: e.requestContext.timeEpoch,
    },
  } as APIGatewayProxyEventV2;
};

/** The API function's environment (names, never a secret) with the SDK pointed at the emulators. */
export const lambdaEnv = (emulators: Emulators, operatorKey: string) => ({
  RUNNEL_METADATA_TABLE: emulators.storage.tables.metadata,
  RUNNEL_LOG_TABLE: emulators.storage.tables.log,
  RUNNEL_SEGMENT_BUCKET: emulators.storage.bucket,
  RUNNEL_OPERATOR_KEY_HASH: hashApiKey(operatorKey),
  RUNNEL_S3_FORCE_PATH_STYLE: 'true',
  AWS_ENDPOINT_URL_DYNAMODB: emulators.endpoints.dynamodb,
  AWS_ENDPOINT_URL_S3: emulators.endpoints.s3,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
});
