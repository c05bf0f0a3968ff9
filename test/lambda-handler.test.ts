import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulators, startEmulators } from '#local/emulators';
import { hashApiKey } from '#shared/domain/api-keys';

/**
 * The Lambda entry point, invoked as API Gateway (HTTP API, payload 2.0) would invoke it,
 * configured only through the environment, against the emulators.
 */
const OPERATOR_KEY = 'lambda-test-operator-key-0123456789';
let emulators: Emulators;
let s3Dir: string;
let handler: (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyResultV2>;
const saved = { ...process.env };

const event = (
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

const invoke = async (method: string, path: string, options: Parameters<typeof event>[2] = {}) => {
  const result = (await handler(event(method, path, options), {} as Context)) as Exclude<
    APIGatewayProxyResultV2,
    string
  >;
  return {
    status: result.statusCode,
    body: result.body ? JSON.parse(result.body) : undefined,
    headers: result.headers,
  };
};

beforeAll(async () => {
  s3Dir = mkdtempSync(join(tmpdir(), 'runnel-lambda-'));
  emulators = await startEmulators({ s3Dir });
  Object.assign(process.env, {
    RUNNEL_METADATA_TABLE: emulators.storage.tables.metadata,
    RUNNEL_LOG_TABLE: emulators.storage.tables.log,
    RUNNEL_SEGMENT_BUCKET: emulators.storage.bucket,
    RUNNEL_OPERATOR_KEY_HASH: hashApiKey(OPERATOR_KEY),
    RUNNEL_S3_FORCE_PATH_STYLE: 'true',
    AWS_ENDPOINT_URL_DYNAMODB: emulators.endpoints.dynamodb,
    AWS_ENDPOINT_URL_S3: emulators.endpoints.s3,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
  });
  const entry = await import('../functions/api');
  handler = entry.handler as unknown as typeof handler;
});

afterAll(async () => {
  process.env = saved;
  await emulators.close();
  rmSync(s3Dir, { recursive: true, force: true });
});

describe('functions/api handler (API Gateway HTTP API, payload 2.0)', () => {
  it('serves health, the operator API, produce and fetch', async () => {
    expect(await invoke('GET', '/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });

    const tenant = await invoke('POST', '/admin/v1/tenants', { key: OPERATOR_KEY, body: { name: 'lambda' } });
    expect(tenant.status).toBe(201);
    const key = tenant.body.apiKey as string;

    expect((await invoke('POST', '/v1/topics', { key, body: { name: 'l', partitions: 2 } })).status).toBe(201);
    const value = 'z'.repeat(10_000); // large enough to go through S3
    const produced = await invoke('POST', '/v1/topics/l/records', {
      key,
      body: { records: [{ value, partition: 1 }] },
    });
    expect(produced).toMatchObject({ status: 200, body: { offsets: [{ partition: 1, offset: 0 }] } });

    const fetched = await invoke('GET', '/v1/topics/l/partitions/1/records', { key, query: 'offset=0' });
    expect(fetched.status).toBe(200);
    expect(fetched.body.records[0].value).toBe(value);
  });

  it('answers problems through the handler too', async () => {
    const res = await invoke('GET', '/v1/topics');
    expect(res.status).toBe(401);
    expect(res.headers?.['content-type']).toContain('application/problem+json');
    expect(res.body.code).toBe('unauthorized');
  });

  it('refuses event streams at once: API Gateway buffers responses, streams have their own endpoint', async () => {
    const res = await invoke('GET', '/v1/topics/l/partitions/0/records', { accept: 'text/event-stream' });
    expect(res.status).toBe(406);
    expect(res.body.code).toBe('not_acceptable');
    expect(res.body.detail).toContain('StreamUrl');
  });
});

describe('functions/maintenance handler (scheduled)', () => {
  it('runs the job through the shared clients and logs the run as a JSON line', async () => {
    const lines: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      lines.push(String(chunk));
      return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof process.stdout.write;
    try {
      const entry = await import('../functions/maintenance');
      const context = { getRemainingTimeInMillis: () => 240_000, awsRequestId: 'run-1' } as unknown as Context;
      const report = await entry.handler({}, context);
      expect(report).toMatchObject({ partitions: expect.any(Number) });
    } finally {
      process.stdout.write = write;
    }
    const run = lines.map((l) => l.trim()).find((l) => l.includes('"maintenance run"'));
    expect(run && JSON.parse(run)).toMatchObject({ level: 'INFO', message: 'maintenance run', service: 'runnel' });
  });
});
