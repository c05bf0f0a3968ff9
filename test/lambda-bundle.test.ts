import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulators, startEmulators } from '#local/emulators';
import { ENTRY_FILE, functionBuildOptions } from '../infra/constructs/bundling';
import { functionUrlEvent, lambdaEnv } from './lambda-events';

/**
 * The API function as it is deployed: `functions/api.ts` bundled with the construct's own
 * esbuild options (code splitting, minified), imported from its output directory and
 * invoked with Function URL events against the emulators. Every request here runs code
 * that loads on first use (topic administration, idempotent produce with its store,
 * consumer groups with theirs, the operator API) from its chunk, so a chunk that is
 * missing, or a module that ends up twice in the bundle, shows as a failed request.
 */
const OPERATOR_KEY = 'bundle-test-operator-key-0123456789';
let emulators: Emulators;
let workDir: string;
let handler: (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyResultV2>;
const saved = { ...process.env };

const invoke = async (method: string, path: string, options: { body?: unknown; key?: string; query?: string } = {}) => {
  const result = (await handler(functionUrlEvent(method, path, options), {
    awsRequestId: 'r',
    functionName: 'api',
  } as Context)) as Exclude<APIGatewayProxyResultV2, string>;
  return { status: result.statusCode, body: result.body ? JSON.parse(result.body) : undefined };
};

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'runnel-bundle-'));
  emulators = await startEmulators({ s3Dir: join(workDir, 's3') });
  const root = resolve(__dirname, '..');
  const outdir = join(workDir, 'api');
  await build({ ...functionBuildOptions(join(root, 'functions/api.ts'), outdir), absWorkingDir: root });
  Object.assign(process.env, {
    ...lambdaEnv(emulators, OPERATOR_KEY),
    // The bundle's log and metric lines are not this test's subject.
    AWS_LAMBDA_LOG_LEVEL: 'ERROR',
  });
  const entry = await import(pathToFileURL(join(outdir, ENTRY_FILE)).href);
  handler = entry.handler;
}, 120_000);

afterAll(async () => {
  process.env = saved;
  await emulators.close();
  rmSync(workDir, { recursive: true, force: true });
});

describe('the bundled API function against the emulators', () => {
  it('serves produce, fetch and every kind of first-use request from its chunks', async () => {
    const tenant = await invoke('POST', '/admin/v1/tenants', { key: OPERATOR_KEY, body: { name: 'bundled' } });
    expect(tenant.status).toBe(201);
    const key = tenant.body.apiKey as string;

    expect((await invoke('POST', '/v1/topics', { key, body: { name: 'b', partitions: 2 } })).status).toBe(201);
    expect((await invoke('GET', '/v1/topics', { key })).body.topics.map((t: { name: string }) => t.name)).toEqual([
      'b',
    ]);

    // Plain produce, inline and through S3, then read back.
    const large = 'z'.repeat(10_000);
    const plain = await invoke('POST', '/v1/topics/b/records', {
      key,
      body: {
        records: [
          { value: 'small', partition: 0 },
          { value: large, partition: 1 },
        ],
      },
    });
    expect(plain).toMatchObject({
      status: 200,
      body: {
        offsets: [
          { partition: 0, offset: 0 },
          { partition: 1, offset: 0 },
        ],
      },
    });

    // Idempotent produce: the retry gets the first answer and appends nothing.
    const once = { records: [{ value: 'once', partition: 0 }], producerId: 'p-1', sequence: 0 };
    const first = await invoke('POST', '/v1/topics/b/records', { key, body: once });
    expect(first).toMatchObject({ status: 200, body: { offsets: [{ partition: 0, offset: 1 }] } });
    expect(await invoke('POST', '/v1/topics/b/records', { key, body: once })).toEqual(first);

    const zero = await invoke('GET', '/v1/topics/b/partitions/0/records', { key, query: 'offset=0' });
    expect(zero.body.records.map((r: { value: string }) => r.value)).toEqual(['small', 'once']);
    const one = await invoke('GET', '/v1/topics/b/partitions/1/records', { key, query: 'offset=0' });
    expect(one.body.records.map((r: { value: string }) => r.value)).toEqual([large]);

    // A consumer group: join, heartbeat, commit, read the commit back.
    const joined = await invoke('POST', '/v1/groups/g/members', { key, body: { topics: ['b'] } });
    expect(joined.status).toBe(200);
    const memberId = joined.body.memberId as string;
    expect((await invoke('POST', `/v1/groups/g/members/${memberId}/heartbeat`, { key, body: {} })).status).toBe(200);
    const commit = await invoke('POST', '/v1/groups/g/offsets', {
      key,
      body: {
        memberId,
        generation: joined.body.generation,
        offsets: [{ topic: 'b', partition: 0, offset: 2 }],
      },
    });
    expect(commit.status).toBe(204);
    const offsets = await invoke('GET', '/v1/groups/g/offsets', { key });
    expect(offsets.body.offsets).toEqual(
      expect.arrayContaining([expect.objectContaining({ topic: 'b', partition: 0, offset: 2 })]),
    );

    // Bad input still gets its problem from a first-use route.
    const bad = await invoke('POST', '/v1/topics', { key, body: { name: 'x', partitions: 0 } });
    expect(bad).toMatchObject({ status: 400, body: { code: 'invalid_request' } });
  }, 60_000);
});
