import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { type Emulators, startEmulators } from '#local/emulators';
import { awsPorts } from '#shared/adapters/aws';
import { SdkCallCounter } from '#shared/adapters/sdk-call-counter';
import { type AppDeps, createApp, createServices } from '#shared/app/create-app';
import { hashApiKey } from '#shared/domain/api-keys';
import { LOCAL_DESTINATIONS } from '#shared/domain/connectors/destination';
import type { Quotas } from '#shared/domain/quotas';
import { type IndexEntry, isGap, type LogIndex, type PartitionRef, scanEntries } from '#shared/ports/log-index';

export const OPERATOR_KEY = 'test-operator-key-0123456789abcdef';

export interface Stack {
  app: ReturnType<typeof createApp>;
  services: ReturnType<typeof createServices>;
  deps: AppDeps;
  emulators: Emulators;
  calls: SdkCallCounter;
  tenantId: string;
  apiKey: string;
  /** An authenticated JSON client for the tenant key (or another key). */
  api: Api;
  /** A client for another key (another tenant's, a narrower one). */
  apiAs(key: string): Api;
  close(): Promise<void>;
}

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export interface Api {
  request<T = any>(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<ApiResponse<T>>;
  get<T = any>(path: string): Promise<ApiResponse<T>>;
  post<T = any>(path: string, body?: unknown): Promise<ApiResponse<T>>;
  patch<T = any>(path: string, body?: unknown): Promise<ApiResponse<T>>;
  delete<T = any>(path: string): Promise<ApiResponse<T>>;
}

export const apiClient = (
  app: { request: (path: string, init?: RequestInit) => Response | Promise<Response> },
  key: string | undefined,
): Api => {
  const request = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const init: RequestInit = { method, headers: { ...headers } };
    if (key) (init.headers as Record<string, string>).Authorization = `Bearer ${key}`;
    if (body !== undefined) {
      (init.headers as Record<string, string>)['Content-Type'] = 'application/json';
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
    }
    const res = await app.request(path, init);
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {}
    return { status: res.status, headers: res.headers, body: parsed as any };
  };
  return {
    request,
    get: (path) => request('GET', path),
    post: (path, body) => request('POST', path, body),
    patch: (path, body) => request('PATCH', path, body),
    delete: (path) => request('DELETE', path),
  };
};

export interface StackOptions {
  clock?: () => number;
  limits?: AppDeps['limits'];
  /** Where structured log lines go. @default dropped */
  log?: AppDeps['log'];
  corsOrigins?: string[];
  /** Persist under this directory (restart tests); otherwise DynamoDB in memory and S3 in a temp dir. */
  dataDir?: string;
  /** Exactly-once timing and hooks (short leases in crash tests). */
  exactlyOnce?: AppDeps['exactlyOnce'];
  /** The offset protocol's gap and writer bounds. */
  gaps?: AppDeps['gaps'];
  /** Called with the SDK clients before the ports are built (fault injection). */
  attach?: (clients: { dynamodb: Emulators['dynamodb']; s3: Emulators['s3'] }) => void;
  /** @default OPERATOR_KEY */
  operatorKey?: string;
  /** Where connectors may reach. @default local mode's: loopback allowed, no role needed */
  connectorPolicy?: AppDeps['connectorPolicy'];
  /** The tenant created at start. @default 'tenant-a' with the default quotas */
  tenant?: { name: string; quotas?: Partial<Quotas> };
  /** Any other app dependency (client address, throttles…), applied last. */
  deps?: Partial<AppDeps>;
}

/**
 * The emulators run in the test's own process: on a loaded machine a call may wait seconds
 * for the CPU, which is not a storage outage. The clients keep the SDK's retry strategy but
 * drop its per-attempt timeouts (2 s for DynamoDB in Lambda), so no test fails with 503
 * because the machine was slow. Injected faults (test/faults) still exercise the retries.
 */
const withoutSdkTimeouts = (clients: { dynamodb: Emulators['dynamodb']; s3: Emulators['s3'] }) => {
  for (const client of [clients.dynamodb, clients.s3]) {
    const handler = client.config.requestHandler as { updateHttpClientConfig?: (key: string, value: number) => void };
    if (!handler.updateHttpClientConfig) throw new Error('SDK request handler without updateHttpClientConfig');
    handler.updateHttpClientConfig('requestTimeout', 0);
    handler.updateHttpClientConfig('connectionTimeout', 0);
  }
};

/** The real app on the real SDK clients against in-process emulators, with one tenant. */
export const startStack = async (options: StackOptions = {}): Promise<Stack> => {
  const tempDir = options.dataDir ? undefined : mkdtempSync(join(tmpdir(), 'runnel-test-'));
  const emulators = await startEmulators(options.dataDir ? { dataDir: options.dataDir } : { s3Dir: tempDir as string });
  withoutSdkTimeouts(emulators);
  options.attach?.(emulators);
  const calls = new SdkCallCounter();
  calls.attach(emulators.dynamodb, 'DynamoDB');
  calls.attach(emulators.s3, 'S3');
  const deps: AppDeps = {
    ...awsPorts(emulators, emulators.storage),
    operatorKeyHash: hashApiKey(options.operatorKey ?? OPERATOR_KEY),
    log: options.log ?? (process.env.RUNNEL_TEST_LOG ? (e) => console.error(JSON.stringify(e)) : () => {}),
    ...(options.corsOrigins ? { corsOrigins: options.corsOrigins } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.exactlyOnce ? { exactlyOnce: options.exactlyOnce } : {}),
    // Hedged segment PUTs off: a loaded machine would hedge some and change the exact call
    // counts tests and the bench read (test/segment-hedge.test.ts turns it on; the bench models it).
    segmentHedge: { afterMs: Number.POSITIVE_INFINITY },
    ...(options.gaps ? { gaps: options.gaps } : {}),
    connectorPolicy: options.connectorPolicy ?? {
      destinations: LOCAL_DESTINATIONS,
      requireRoleArn: false,
      reservedBuckets: [emulators.storage.bucket],
    },
    ...options.deps,
  };
  const services = createServices(deps);
  const app = createApp(deps, services);
  const tenant = await services.tenants.create(
    options.tenant?.name ?? 'tenant-a',
    options.tenant?.quotas ? { quotas: options.tenant.quotas } : {},
  );
  return {
    app,
    services,
    deps,
    emulators,
    calls,
    tenantId: tenant.tenant.tenantId,
    apiKey: tenant.apiKey,
    api: apiClient(app, tenant.apiKey),
    apiAs: (key) => apiClient(app, key),
    async close() {
      await emulators.close();
      if (tempDir) rmSync(tempDir, { recursive: true, force: true });
    },
  };
};

/** Where a topic's partition of the stack's tenant lives in the index. */
export const partitionRef = async (stack: Stack, topic: string, partition = 0): Promise<PartitionRef> => {
  const t = await stack.services.topics.get(stack.tenantId, topic);
  return { tenantId: t.tenantId, topicId: t.topicId, partition };
};

/** Every index entry of a partition, page by page. */
export const allEntries = async (index: LogIndex, ref: PartitionRef): Promise<IndexEntry[]> => {
  const all: IndexEntry[] = [];
  for await (const entry of scanEntries(index, ref, 0)) all.push(entry);
  return all;
};

/** Records a topic of `tenantId` holds: every partition's entries but gap markers (which hold offsets, not records). */
export const storedRecords = async (stack: Stack, tenantId: string, topic: string): Promise<number> => {
  const t = await stack.services.topics.get(tenantId, topic);
  let records = 0;
  for (let partition = 0; partition < t.partitions; partition++) {
    for (const entry of await allEntries(stack.deps.index, { tenantId, topicId: t.topicId, partition })) {
      if (!isGap(entry)) records += entry.recordCount;
    }
  }
  return records;
};

/** A problem response (RFC 9457) with this status and code. */
export const expectProblem = (res: ApiResponse, status: number, code: string) => {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  expect(res.body).toMatchObject({ status, code });
};

/**
 * Resolves (with the partition key) when the server next begins a long-poll wait: a fetch
 * or group fetch found nothing and now waits for an append. Tests produce after this, so
 * the record provably arrives while the poll waits. Take it before starting the poll.
 */
export const nextLongPollWait = (stack: Stack): Promise<string> => {
  const notifier = stack.services.notifier;
  const wait = notifier.wait;
  return new Promise((resolve) => {
    notifier.wait = (key, ms) => {
      notifier.wait = wait;
      resolve(key);
      return wait.call(notifier, key, ms);
    };
  });
};
