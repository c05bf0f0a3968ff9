import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulators, startEmulators } from '#local/emulators';
import { httpApiEvent as event, lambdaEnv, URL_HOST, functionUrlEvent as urlEvent } from './lambda-events';

/**
 * The Lambda entry point, invoked as API Gateway (HTTP API, payload 2.0) and as its own
 * Function URL (the default front door) would invoke it, configured only through the
 * environment, against the emulators.
 */
const OPERATOR_KEY = 'lambda-test-operator-key-0123456789';
let emulators: Emulators;
let s3Dir: string;
let handler: (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyResultV2>;
const saved = { ...process.env };

const invoke = async (
  method: string,
  path: string,
  options: Parameters<typeof urlEvent>[2] & { via?: 'api-gateway' | 'function-url' } = {},
) => {
  const input = options.via === 'function-url' ? urlEvent(method, path, options) : event(method, path, options);
  const result = (await handler(input, {} as Context)) as Exclude<APIGatewayProxyResultV2, string>;
  return {
    status: result.statusCode,
    body: result.body ? JSON.parse(result.body) : undefined,
    headers: result.headers,
  };
};

beforeAll(async () => {
  s3Dir = mkdtempSync(join(tmpdir(), 'runnel-lambda-'));
  emulators = await startEmulators({ s3Dir });
  Object.assign(process.env, lambdaEnv(emulators, OPERATOR_KEY));
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

  it('refuses event streams at once: the front door buffers responses, streams have their own endpoint', async () => {
    const res = await invoke('GET', '/v1/topics/l/partitions/0/records', { accept: 'text/event-stream' });
    expect(res.status).toBe(406);
    expect(res.body.code).toBe('not_acceptable');
    expect(res.body.detail).toContain('StreamUrl');
  });
});

describe('functions/api handler behind its Function URL (the default front door)', () => {
  const via = 'function-url' as const;

  it('serves the same app: health, problems, and the generated OpenAPI document with its own origin', async () => {
    expect(await invoke('GET', '/healthz', { via })).toMatchObject({ status: 200, body: { status: 'ok' } });
    const problem = await invoke('GET', '/v1/topics', { via });
    expect(problem).toMatchObject({ status: 401, body: { code: 'unauthorized' } });
    expect(problem.headers?.['content-type']).toContain('application/problem+json');
    const doc = await invoke('GET', '/openapi.json', { via });
    expect(doc.status).toBe(200);
    expect(doc.body.servers).toEqual([{ url: `https://${URL_HOST}` }]);
    expect(Object.keys(doc.body.paths)).toContain('/v1/topics/{topic}/records');
  });

  it('throttles failed authentication by the address Lambda saw, not by a header the caller sets', async () => {
    // A burst of 20 failures, then 1 a second: 40 in a row reach the throttle unless each took over a second.
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) {
      const res = await invoke('GET', '/v1/topics', { via, key: `rnl_nokey${i}_secret`, sourceIp: '198.51.100.66' });
      statuses.push(res.status ?? 0);
    }
    expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
    expect(statuses).toContain(429);
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
    // Another address is not throttled by the first one's failures.
    const other = await invoke('GET', '/v1/topics', { via, key: 'rnl_nokey_secret', sourceIp: '198.51.100.67' });
    expect(other.status).toBe(401);
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
