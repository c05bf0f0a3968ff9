import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { SdkErrorCounter } from '#shared/adapters/sdk-error-counter';
import { createApp } from '#shared/app/create-app';
import { lambdaTelemetry } from '#shared/hosts/lambda-telemetry';
import type { LogEntry, MetricDatum, MetricProperties } from '#shared/observability/telemetry';
import { apiClient, type Stack, startStack } from './harness';

// One stack for the file: the emulators are started once.
let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

describe('access log and request metrics', () => {
  const lines: LogEntry[] = [];
  const published: { data: MetricDatum[]; properties: MetricProperties }[] = [];
  let app: ReturnType<typeof createApp>;

  beforeAll(async () => {
    app = createApp(
      {
        ...stack.deps,
        log: (entry) => lines.push(entry),
        metrics: { publish: (data, properties) => published.push({ data, properties }) },
      },
      stack.services,
    );
    expect((await stack.api.post('/v1/topics', { name: 'orders', partitions: 2 })).status).toBe(201);
  });
  afterEach(() => {
    lines.length = 0;
    published.length = 0;
  });

  const requestLines = () => lines.filter((l) => l.msg === 'request');
  const metric = (name: string) => published.flatMap((p) => p.data).find((d) => d.name === name);

  it('logs one line per request with request id, tenant, topic, route, status and latency', async () => {
    const body = JSON.stringify({ records: [{ key: 'k', value: 'v' }] });
    const res = await apiClient(app, stack.apiKey).request('POST', '/v1/topics/orders/records', body, {
      'X-Request-Id': 'req-123',
      'Content-Length': String(Buffer.byteLength(body)),
    });
    expect(res.status).toBe(200);
    expect(requestLines()).toEqual([
      expect.objectContaining({
        level: 'info',
        requestId: 'req-123',
        method: 'POST',
        path: '/v1/topics/orders/records',
        route: '/v1/topics/:topic/records',
        status: 200,
        tenantId: stack.tenantId,
        topic: 'orders',
      }),
    ]);
    const [line] = requestLines();
    expect(line?.latencyMs).toEqual(expect.any(Number));
    expect(line?.bytesIn).toBe(Buffer.byteLength(body));
    expect(line?.bytesOut).toBeGreaterThan(0);
  });

  it('never logs the key or the query string', async () => {
    const res = await apiClient(app, stack.apiKey).get(
      '/v1/topics/orders/partitions/0/records?offset=earliest&token=hunter2',
    );
    expect(res.status).toBe(200);
    const text = JSON.stringify(lines);
    expect(text).not.toContain(stack.apiKey);
    expect(text).not.toContain('hunter2');
    expect(text).not.toMatch(/authorization/i);
    expect(requestLines()[0]?.path).toBe('/v1/topics/orders/partitions/0/records');
  });

  it('logs refused and unknown requests too, without a tenant', async () => {
    expect((await apiClient(app, undefined).get('/v1/topics')).status).toBe(401);
    expect((await apiClient(app, stack.apiKey).get('/v1/nowhere')).status).toBe(404);
    expect(requestLines()).toEqual([
      expect.objectContaining({ status: 401, level: 'warn', path: '/v1/topics', tenantId: undefined }),
      expect.objectContaining({ status: 404, path: '/v1/nowhere', route: undefined, tenantId: stack.tenantId }),
    ]);
  });

  it('publishes request count, latency and bytes, with tenant and topic as context', async () => {
    await apiClient(app, stack.apiKey).post('/v1/topics/orders/records', { records: [{ value: 'a' }] });
    expect(published).toHaveLength(1);
    expect(published[0]?.properties).toMatchObject({
      route: 'POST /v1/topics/:topic/records',
      status: 200,
      tenantId: stack.tenantId,
      topic: 'orders',
    });
    expect(metric('Requests')).toEqual({ name: 'Requests', unit: 'Count', value: 1 });
    expect(metric('ServerErrors')?.value).toBe(0);
    expect(metric('ProduceLatency')?.unit).toBe('Milliseconds');
    expect(metric('FetchLatency')).toBeUndefined();
    expect(metric('BytesOut')?.value).toBeGreaterThan(0);

    published.length = 0;
    await apiClient(app, stack.apiKey).get('/v1/topics/orders/partitions/0/records?offset=earliest');
    expect(metric('FetchLatency')?.unit).toBe('Milliseconds');
    expect(metric('ProduceLatency')).toBeUndefined();

    published.length = 0;
    await apiClient(app, stack.apiKey).get('/v1/topics/missing');
    expect(metric('ClientErrors')?.value).toBe(1);
  });
});

describe('Lambda telemetry (JSON lines on stdout)', () => {
  const captureStdout = () => {
    const written: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: any) => {
      written.push(String(chunk));
      return true;
    });
    return { written, restore: () => spy.mockRestore() };
  };

  it('publishes metrics as one CloudWatch EMF line, context as fields and not dimensions', () => {
    const telemetry = lambdaTelemetry({ serviceName: 'runnel', namespace: 'RunnelTest' });
    const out = captureStdout();
    try {
      telemetry.metrics.publish(
        [
          { name: 'Requests', unit: 'Count', value: 1 },
          { name: 'ProduceLatency', unit: 'Milliseconds', value: 12.5 },
        ],
        { tenantId: 't-1', topic: 'orders', status: 200, route: undefined },
      );
    } finally {
      out.restore();
    }
    const emf = out.written.map((l) => JSON.parse(l)).find((l) => l._aws);
    expect(emf._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: 'RunnelTest',
        Dimensions: [['service']],
        Metrics: [
          { Name: 'Requests', Unit: 'Count' },
          { Name: 'ProduceLatency', Unit: 'Milliseconds' },
        ],
      },
    ]);
    expect(emf).toMatchObject({
      service: 'runnel',
      Requests: 1,
      ProduceLatency: 12.5,
      tenantId: 't-1',
      topic: 'orders',
    });
    expect(emf).not.toHaveProperty('route');
  });

  it('writes JSON log lines with the level, message and fields', () => {
    const telemetry = lambdaTelemetry({ serviceName: 'runnel' });
    const out = captureStdout();
    try {
      telemetry.log({ level: 'info', msg: 'request', requestId: 'r-1', tenantId: 't-1', status: 200 });
    } finally {
      out.restore();
    }
    const line = JSON.parse(out.written.join(''));
    expect(line).toMatchObject({
      level: 'INFO',
      message: 'request',
      service: 'runnel',
      requestId: 'r-1',
      tenantId: 't-1',
    });
  });
});

describe('Lambda telemetry: invocation context and levels', () => {
  const lines = () => {
    const out: Record<string, unknown>[] = [];
    return { out, write: (line: string) => out.push(JSON.parse(line)) };
  };

  it('carries the invocation context on every line, cold start only on the first invocation', () => {
    const { out, write } = lines();
    const telemetry = lambdaTelemetry({
      serviceName: 'runnel',
      env: { _X_AMZN_TRACE_ID: 'Root=1-abc;Parent=p;Sampled=1' },
      write,
    });
    telemetry.startInvocation(
      { awsRequestId: 'req-1', functionName: 'api', memoryLimitInMB: '1024' },
      { apiRequestId: 'a-1' },
    );
    telemetry.log({ msg: 'first' });
    telemetry.startInvocation({ awsRequestId: 'req-2', functionName: 'api' }, { apiRequestId: 'a-2' });
    telemetry.log({ level: 'warn', msg: 'second', status: 429 });
    expect(out[0]).toMatchObject({
      level: 'INFO',
      message: 'first',
      cold_start: true,
      function_request_id: 'req-1',
      function_memory_size: 1024,
      apiRequestId: 'a-1',
      xray_trace_id: '1-abc',
    });
    expect(out[1]).toMatchObject({
      level: 'WARN',
      message: 'second',
      cold_start: false,
      function_request_id: 'req-2',
      apiRequestId: 'a-2',
      status: 429,
    });
  });

  it("drops lines below the function's log level, and sends a repeated metric as one with several values", () => {
    const { out, write } = lines();
    const telemetry = lambdaTelemetry({ env: { AWS_LAMBDA_LOG_LEVEL: 'WARN' }, write });
    telemetry.log({ level: 'info', msg: 'dropped' });
    telemetry.log({ level: 'debug', msg: 'dropped too' });
    telemetry.log({ level: 'error', msg: 'kept' });
    telemetry.metrics.publish(
      [
        { name: 'StorageThrottles', unit: 'Count', value: 1 },
        { name: 'StorageThrottles', unit: 'Count', value: 2 },
      ],
      {},
    );
    telemetry.metrics.publish([], { nothing: 'to say' });
    expect(out.map((l) => l.message ?? 'emf')).toEqual(['kept', 'emf']);
    expect(out[1]).toMatchObject({ StorageThrottles: [1, 2] });
  });
});

describe('storage error counter', () => {
  it('counts conditional-write conflicts on the real client, once each, and resets on drain', async () => {
    const counter = new SdkErrorCounter();
    counter.attach(stack.emulators.dynamodb, 'DynamoDB');
    expect(counter.drain()).toEqual([]);
    expect((await stack.api.post('/v1/topics', { name: 'twice', partitions: 1 })).status).toBe(201);
    expect(counter.drain()).toEqual([]);
    // The second create loses the conditional put on the topic item.
    expect((await stack.api.post('/v1/topics', { name: 'twice', partitions: 1 })).status).toBe(409);
    expect(counter.drain()).toEqual([{ name: 'ConditionalWriteConflicts', unit: 'Count', value: 1 }]);
    expect(counter.drain()).toEqual([]);
  });
});
