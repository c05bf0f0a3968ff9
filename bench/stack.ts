import { serve } from '@hono/node-server';
import type { Emulators } from '#local/emulators';
import type { SdkCallCounter } from '#shared/adapters/sdk-call-counter';
import type { App, AppDeps, Services } from '#shared/app/create-app';
import type { ProduceInput } from '#shared/services/produce';
import { startStack } from '../test/harness';
import { CallRecorder } from './call-recorder';

const BENCH_QUOTAS = {
  maxTopics: 100_000,
  maxPartitions: 1_000_000,
  maxStorageBytes: 2 ** 50,
  produceBytesPerSec: 2 ** 40,
  fetchBytesPerSec: 2 ** 40,
};

export const BENCH_OPERATOR_KEY = 'bench-operator-key-0123456789abcdef';

/** Something that answers HTTP requests: the app itself (`app.request`) or a base URL over loopback. */
export type Requester = (path: string, init?: RequestInit) => Promise<Response>;

export interface BenchStack {
  app: App;
  services: Services;
  deps: AppDeps;
  emulators: Emulators;
  /** The project's counter, by operation. */
  counter: SdkCallCounter;
  /** Timeline, capacity units and bytes of every call. */
  recorder: CallRecorder;
  tenantId: string;
  apiKey: string;
  /** The real app served by @hono/node-server on 127.0.0.1, as `npm start` serves it. */
  baseUrl: string;
  /** Calls the app in-process (`app.request`, no socket). */
  inProcess: Requester;
  /** Calls the app over loopback HTTP. */
  overHttp: Requester;
  close(): Promise<void>;
}

/**
 * The test harness's stack (the emulators, the real app on the real SDK clients, one
 * tenant), with the call recorder attached and an HTTP server on 127.0.0.1.
 */
export const startBenchStack = async (clock?: () => number): Promise<BenchStack> => {
  let settle = async () => {};
  const recorder = new CallRecorder(() => settle());
  // Quotas far above anything the bench does: it measures the service, not its throttling
  // (the quota accounting itself, one DynamoDB write per produce and fetch, still runs).
  const stack = await startStack({
    ...(clock ? { clock } : {}),
    operatorKey: BENCH_OPERATOR_KEY,
    tenant: { name: 'bench', quotas: BENCH_QUOTAS },
    attach: (clients) => {
      recorder.attach(clients.dynamodb, 'DynamoDB');
      recorder.attach(clients.s3, 'S3');
    },
  });
  const { app } = stack;
  settle = () => stack.services.quotas.drain();
  let listening: (port: number) => void = () => {};
  const port = new Promise<number>((resolve) => {
    listening = resolve;
  });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => listening(info.port));
  const baseUrl = `http://127.0.0.1:${await port}`;
  const authorized = (init: RequestInit = {}): RequestInit => ({
    ...init,
    headers: { Authorization: `Bearer ${stack.apiKey}`, 'Content-Type': 'application/json', ...init.headers },
  });
  return {
    app,
    services: stack.services,
    deps: stack.deps,
    emulators: stack.emulators,
    counter: stack.calls,
    recorder,
    tenantId: stack.tenantId,
    apiKey: stack.apiKey,
    baseUrl,
    inProcess: async (path, init) => app.request(path, authorized(init)),
    overHttp: (path, init) => fetch(`${baseUrl}${path}`, authorized(init)),
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await stack.close();
    },
  };
};

/** A JSON call that must succeed; a failure is a bench error, never a figure. */
export const callJson = async <T = any>(request: Requester, path: string, init?: RequestInit): Promise<T> => {
  const res = await request(path, init);
  const text = await res.text();
  if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${path} → ${res.status}: ${text.slice(0, 300)}`);
  return (text ? JSON.parse(text) : undefined) as T;
};

export const createTopic = (request: Requester, name: string, partitions: number) =>
  callJson(request, '/v1/topics', { method: 'POST', body: JSON.stringify({ name, partitions }) });

/** `count` unkeyed records of `valueBytes` bytes each on partition 0, as the produce service takes them (one shared value). */
export const produceInputs = (count: number, valueBytes: number): ProduceInput[] => {
  const value = new Uint8Array(valueBytes).fill(120);
  return Array.from({ length: count }, () => ({ key: null, value, headers: [], timestamp: undefined, partition: 0 }));
};

/** A produce body for records spread round-robin over `partitions` partitions (or all on one). */
export const produceBody = (count: number, valueBytes: number, partitions = 1, firstPartition = 0) => {
  const value = 'x'.repeat(valueBytes);
  return JSON.stringify({
    records: Array.from({ length: count }, (_, i) => ({ value, partition: firstPartition + (i % partitions) })),
  });
};
