import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulators, startEmulators } from '#local/emulators';
import { awsPorts } from '#shared/adapters/aws';
import { createApp, createServices } from '#shared/app/create-app';

/*
 * The stream function's entry point, invoked as a Function URL in RESPONSE_STREAM mode
 * invokes it: Lambda's Node.js runtime provides `awslambda.streamifyResponse` and
 * `awslambda.HttpResponseStream`, stood in for here by the smallest shim that behaves
 * alike (a writable response stream, and the status and headers sent before the body).
 */

interface Metadata {
  statusCode: number;
  headers: Record<string, string>;
}

class ResponseStream extends Writable {
  metadata: Metadata | undefined;
  text = '';
  constructor(private readonly stopAfterEvents: number) {
    super();
    // After a cut the runtime adapter may still try to write; a closed connection ignores it.
    this.on('error', () => {});
  }
  override _write(chunk: Buffer, _encoding: string, done: () => void) {
    this.text += chunk.toString();
    done();
    // The client leaves after a number of events, as a browser tab closes.
    if (this.text.split('\n\n').length > this.stopAfterEvents) this.destroy();
  }
}

type Handler = (event: unknown, stream: ResponseStream, context: unknown) => Promise<void>;

let emulators: Emulators;
let s3Dir: string;
let handler: Handler;
let apiKey: string;
const saved = { ...process.env };

const urlEvent = (path: string, query: string, headers: Record<string, string>) => ({
  version: '2.0',
  routeKey: '$default',
  rawPath: path,
  rawQueryString: query,
  headers: { host: 'abc.lambda-url.eu-west-1.on.aws', ...headers },
  requestContext: {
    accountId: 'anonymous',
    apiId: 'abc',
    domainName: 'abc.lambda-url.eu-west-1.on.aws',
    domainPrefix: 'abc',
    http: { method: 'GET', path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.1', userAgent: 'test' },
    requestId: 'req-1',
    routeKey: '$default',
    stage: '$default',
    time: '30/Nov/2026:12:00:00 +0000',
    timeEpoch: 1_795_000_000_000,
  },
  isBase64Encoded: false,
});

const invoke = async (path: string, query: string, headers: Record<string, string>, stopAfterEvents = 2) => {
  const stream = new ResponseStream(stopAfterEvents);
  await handler(urlEvent(path, query, headers), stream, {});
  return stream;
};

beforeAll(async () => {
  s3Dir = mkdtempSync(join(tmpdir(), 'runnel-lambda-stream-'));
  emulators = await startEmulators({ s3Dir });
  // Data to stream, written through the app as the API function would.
  const deps = { ...awsPorts(emulators, emulators.storage), operatorKeyHash: undefined, log: () => {} };
  const services = createServices(deps);
  const app = createApp(deps, services);
  apiKey = (await services.tenants.create('lambda-streams')).apiKey;
  const auth = { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' };
  await app.request('/v1/topics', {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ name: 'feed', partitions: 1 }),
  });
  await app.request('/v1/topics/feed/records', {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ records: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] }),
  });

  (globalThis as Record<string, unknown>).awslambda = {
    streamifyResponse: (fn: Handler) => fn,
    HttpResponseStream: {
      from: (stream: ResponseStream, metadata: Metadata) => {
        stream.metadata = metadata;
        return stream;
      },
    },
  };
  Object.assign(process.env, {
    RUNNEL_METADATA_TABLE: emulators.storage.tables.metadata,
    RUNNEL_LOG_TABLE: emulators.storage.tables.log,
    RUNNEL_SEGMENT_BUCKET: emulators.storage.bucket,
    RUNNEL_S3_FORCE_PATH_STYLE: 'true',
    RUNNEL_STREAM_MAX_MS: '840000',
    AWS_ENDPOINT_URL_DYNAMODB: emulators.endpoints.dynamodb,
    AWS_ENDPOINT_URL_S3: emulators.endpoints.s3,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
  });
  handler = (await import('../functions/stream')).handler as unknown as Handler;
});

afterAll(async () => {
  process.env = saved;
  delete (globalThis as Record<string, unknown>).awslambda;
  await emulators.close();
  rmSync(s3Dir, { recursive: true, force: true });
});

describe('functions/stream handler (Function URL, response streaming)', () => {
  it('streams records events with their positions, resuming at Last-Event-ID', async () => {
    const res = await invoke(
      '/v1/topics/feed/partitions/0/records',
      'maxRecords=1',
      { accept: 'text/event-stream', authorization: `Bearer ${apiKey}`, 'last-event-id': '1' },
      2,
    );
    expect(res.metadata?.statusCode).toBe(200);
    expect(res.metadata?.headers['content-type']).toContain('text/event-stream');
    const events = res.text.split('\n\n').filter((e) => e.includes('event: '));
    expect(events[0]).toMatch(/event: records\nid: 2\ndata: \{"records":\[\{"offset":1,/);
    expect(events[1]).toMatch(/event: records\nid: 3\ndata: \{"records":\[\{"offset":2,/);
  });

  it('serves streams only: a JSON fetch and the operator API belong to the main API endpoint', async () => {
    const fetchJson = await invoke('/v1/topics/feed/partitions/0/records', '', { authorization: `Bearer ${apiKey}` });
    expect(fetchJson.metadata?.statusCode).toBe(404);
    expect(JSON.parse(fetchJson.text).code).toBe('not_found');
    const admin = await invoke('/admin/v1/tenants', '', { accept: 'text/event-stream' });
    expect(admin.metadata?.statusCode).toBe(404);
  });
});
